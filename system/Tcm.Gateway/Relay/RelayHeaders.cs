using Microsoft.AspNetCore.Http;
using Tcm.Protocol;

namespace Tcm.Gateway.Relay;

/// <summary>
/// The headers that carry an agent's identity to a backend: only the gateway sets them, never an agent (which could claim
/// another agent's certificate) nor a backend. Every other header crosses the relay by YARP's rules (hop-by-hop ones not).
/// </summary>
internal static class RelayHeaders
{
    /// <summary>The forwarded agent certificate and the gateway's name.</summary>
    public static readonly IReadOnlyList<string> Identity = [SiteServerPaths.ForwardedAgentCertificateHeader, SiteServerPaths.ViaHeader];

    /// <summary>Drops the identity headers from an upstream request.</summary>
    public static void RemoveIdentity(System.Net.Http.Headers.HttpHeaders headers)
    {
        foreach (var name in Identity)
        {
            headers.Remove(name);
        }
    }

    /// <summary>Drops the identity headers from a response to the agent.</summary>
    public static void RemoveIdentity(IHeaderDictionary headers)
    {
        foreach (var name in Identity)
        {
            headers.Remove(name);
        }
    }
}
