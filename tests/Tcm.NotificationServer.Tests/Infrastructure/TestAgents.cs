using Microsoft.Extensions.DependencyInjection;
using Tcm.NotificationServer.Certificates;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>Agents for the Notification Server's own tests, on top of the kit's <see cref="NotificationServerHost"/>.</summary>
internal static class TestAgents
{
    /// <summary>Registers a new agent the way a real one does (its own key pair and a CSR).</summary>
    public static async Task<TestAgent> RegisterAgentAsync(this NotificationServerHost server, string computerName = "PC-0001", IReadOnlyDictionary<string, string>? attributes = null, string? domain = "corp.example") =>
        new(server, await server.RegisterAsync(computerName, attributes, domain));

    /// <summary>A client certificate from this server's CA for an agent id the store does not know.</summary>
    public static TestAgent CreateUnknownAgent(this NotificationServerHost server)
    {
        var (key, csr) = TestCertificates.CreateSigningRequest("ignored");
        using (key)
        {
            var id = AgentIds.NewId();
            var pem = server.Services.GetRequiredService<CertificateAuthority>().SignAgentCertificate(csr, id);
            var registration = new RegisterResponse
            {
                AgentId = id,
                ClientCertificatePem = pem,
                CaCertificatePem = server.Info.CaCertificatePem,
                Policy = new PolicyDocument { Etag = "", AgentId = id, Communication = new CommunicationSettings { ServerHosts = [] }, Settings = new AgentSettings() },
            };
            return new TestAgent(server, new RegisteredAgent(registration, TestCertificates.CombineWithKey(pem, key)));
        }
    }
}
