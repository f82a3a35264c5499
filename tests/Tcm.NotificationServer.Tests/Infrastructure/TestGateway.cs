using System.Security.Cryptography.X509Certificates;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>
/// A CEM gateway as the Notification Server sees it, without the gateway itself: its site-server certificate, its reports and its
/// decision polls, sent to whichever node <see cref="ReportAsync"/> and <see cref="PollAsync"/> are given (real Kestrel and TLS).
/// </summary>
internal sealed class TestGateway(string name, X509Certificate2 certificate) : IDisposable
{
    public string Name { get; } = name;

    public X509Certificate2 Certificate { get; } = certificate;

    /// <summary>Creates gateway <paramref name="name"/> on <paramref name="creator"/> and registers it, as a gateway does at its first start.</summary>
    public static async Task<TestGateway> RegisterAsync(NotificationServerHost creator, string name = "gw1") =>
        new(name, await TestSiteServer.RegisterAsync(creator, name, SiteServerKind.Gateway, "gateway"));

    /// <summary>A report to <paramref name="node"/> from the gateway at <paramref name="address"/>, holding <paramref name="held"/>.</summary>
    public async Task ReportAsync(NotificationServerHost node, string address, params string[] held)
    {
        using var client = node.CreateClient(Certificate);
        var now = DateTimeOffset.UtcNow;
        var report = new GatewayReport
        {
            Address = address,
            StartedAt = now,
            At = now,
            IntervalSeconds = 10,
            Held = [.. held.Select(t => new GatewayHeldCertificate(t, "CN=stranger", "CN=Other CA", now, now, 1))],
        };
        (await client.PostAsJsonAsync(GatewayManagementPaths.Report, report, ProtocolJsonContext.Default.GatewayReport)).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    /// <summary>One decision poll of <paramref name="node"/> that acknowledges <paramref name="applied"/> and waits up to <paramref name="waitSeconds"/>.</summary>
    public async Task<IReadOnlyList<GatewayDecision>> PollAsync(NotificationServerHost node, int waitSeconds, params string[] applied)
    {
        using var client = node.CreateClient(Certificate);
        using var response = await client.PostAsJsonAsync($"{GatewayManagementPaths.Decisions}?wait={waitSeconds}", new GatewayDecisionPoll { Applied = applied },
            ProtocolJsonContext.Default.GatewayDecisionPoll);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.GatewayDecisions))!.Decisions;
    }

    /// <summary>Has <paramref name="node"/>'s admin API decide on <paramref name="thumbprint"/> for this gateway.</summary>
    public async Task<GatewayDecision> DecideAsync(NotificationServerHost node, string thumbprint, GatewayCertificateAction action)
    {
        using var response = await node.Admin.PostAsync($"{TcmPaths.Admin}/gateways/{Name}/certificates/{thumbprint}/{action.ToString().ToLowerInvariant()}", null);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.GatewayDecision))!;
    }

    /// <summary>This gateway as <paramref name="node"/>'s admin API lists it.</summary>
    public async Task<GatewayView> ViewAsync(NotificationServerHost node, CancellationToken cancellationToken = default) =>
        (await node.AdminGetAsync("/gateways", ProtocolJsonContext.Default.IReadOnlyListGatewayView, cancellationToken)).Single(g => g.Name == Name);

    public void Dispose() => Certificate.Dispose();
}
