using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tcm.Agent.Connection;
using Tcm.Agent.Network;
using Tcm.Agent.Routing;
using Tcm.Agent.State;
using Tcm.Agent.Status;
using Tcm.Protocol;

namespace Tcm.Agent.Registration;

/// <summary>The server refused the registration itself (wrong token, bad request); retrying later may help once an admin fixes it.</summary>
internal sealed class RegistrationRefusedException(string message) : Exception(message);

/// <summary>
/// Registers the agent with its install package: makes an ECDSA P-256 key pair and a PKCS#10 request, posts it without a client
/// certificate, and returns the identity (id, signed certificate, CA, private key) and the first policy.
/// </summary>
internal static class Registrar
{
    /// <param name="options">The agent's install package, computer name and attributes.</param>
    /// <param name="network">Where the socket comes from.</param>
    /// <param name="counters">Counts the bytes.</param>
    /// <param name="time">The clock of the request timeout.</param>
    /// <param name="previousAgentId">The id before a lost state, so the server keeps history.</param>
    /// <param name="route">Whom to call: the package's server directly, or its relay URL on the CEM gateway.</param>
    /// <param name="trustPem">The CA the answering server's certificate must chain to (the package CA, or the gateway CA of the CEM settings).</param>
    /// <param name="ct">Cancels the request.</param>
    public static async Task<AgentState> RegisterAsync(AgentOptions options, INetwork network, AgentCounters counters, TimeProvider time, string? previousAgentId,
        AgentRoute route, string trustPem, CancellationToken ct)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(options.ComputerName);
        var csr = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        var request = new RegisterRequest
        {
            RegistrationToken = options.Package.RegistrationToken,
            ComputerName = options.ComputerName,
            Domain = options.Domain,
            OsName = options.OsName ?? RuntimeInformation.OSDescription,
            Attributes = options.Attributes,
            CertificateSigningRequestPem = csr.CreateSigningRequestPem(),
            PreviousAgentId = previousAgentId,
        };

        // A handler without a client certificate, used once: the agent's own handler is built with the certificate this returns.
        using var transport = new AgentTransport(network, trustPem, clientCertificate: null, counters, options.HttpVersion, options.RequestTimeout);
        var response = await transport.SendAsync(
            HttpMethod.Post,
            route.For(TcmPaths.Register),
            AgentTransport.Serialize(request, ProtocolJsonContext.Default.RegisterRequest),
            ifNoneMatch: null,
            time,
            options.RequestTimeout,
            ct).ConfigureAwait(false);

        if (!response.IsSuccess)
        {
            throw new RegistrationRefusedException($"HTTP {response.Status} {response.ErrorCode ?? "error"}: {response.ErrorDetail ?? "no detail"}");
        }

        var registered = response.Read(ProtocolJsonContext.Default.RegisterResponse);
        return new AgentState
        {
            AgentId = registered.AgentId,
            ClientCertificatePem = registered.ClientCertificatePem,
            PrivateKeyPem = key.ExportPkcs8PrivateKeyPem(),
            CaCertificatePem = string.IsNullOrWhiteSpace(registered.CaCertificatePem) ? options.Package.CaCertificatePem : AgentTransport.ShareCaPem(registered.CaCertificatePem),
            Policy = registered.Policy,
        };
    }
}
