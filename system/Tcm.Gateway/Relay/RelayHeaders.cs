using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Tcm.Protocol;
using HttpRequestMessage = System.Net.Http.HttpRequestMessage;
using HttpResponseMessage = System.Net.Http.HttpResponseMessage;

namespace Tcm.Gateway.Relay;

/// <summary>Which headers cross the relay: everything but hop-by-hop headers, pseudo-headers and the identity headers only the gateway sets.</summary>
internal static class RelayHeaders
{
    /// <summary>RFC 9110 section 7.6.1 hop-by-hop headers, the WebSocket handshake's per-hop fields, and the gateway's own.</summary>
    private static readonly FrozenSet<string> NotForwarded = new[]
    {
        HeaderNames.Connection, HeaderNames.KeepAlive, "Proxy-Connection", HeaderNames.TE, HeaderNames.Trailer, HeaderNames.TransferEncoding,
        HeaderNames.Upgrade, HeaderNames.ProxyAuthenticate, HeaderNames.ProxyAuthorization, HeaderNames.Host,
        HeaderNames.SecWebSocketKey, HeaderNames.SecWebSocketAccept, "Alt-Svc",
        SiteServerPaths.ForwardedAgentCertificateHeader, SiteServerPaths.ViaHeader,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The headers that carry the agent's identity: only the gateway sets them, never an agent or a backend.</summary>
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

    public static bool IsForwarded(string name, StringValues connectionTokens)
    {
        if (name.Length == 0 || name[0] == ':' || NotForwarded.Contains(name))
        {
            return false;
        }

        foreach (var token in connectionTokens)
        {
            if (token is not null && token.Split(',').Any(t => string.Equals(t.Trim(), name, StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Copies the agent's request headers to the upstream request, adding the forwarded identity.</summary>
    /// <remarks>No <paramref name="agentCertificateBase64"/> (an agent registering, which has none yet): no forwarded certificate.</remarks>
    public static void CopyRequestHeaders(HttpContext context, HttpRequestMessage upstream, string? agentCertificateBase64, string gatewayName)
    {
        var headers = context.Request.Headers;
        var connection = headers.Connection;
        foreach (var (name, value) in headers)
        {
            if (!IsForwarded(name, connection))
            {
                continue;
            }

            var values = (string[])value!;
            if (!upstream.Headers.TryAddWithoutValidation(name, values) && upstream.Content is not null)
            {
                upstream.Content.Headers.TryAddWithoutValidation(name, values);
            }
        }

        if (agentCertificateBase64 is not null)
        {
            upstream.Headers.TryAddWithoutValidation(SiteServerPaths.ForwardedAgentCertificateHeader, agentCertificateBase64);
        }

        upstream.Headers.TryAddWithoutValidation(SiteServerPaths.ViaHeader, gatewayName);
    }

    /// <summary>Copies the backend's response status and headers to the agent's response.</summary>
    public static void CopyResponseHeaders(HttpResponseMessage upstream, HttpResponse response)
    {
        response.StatusCode = (int)upstream.StatusCode;
        var connection = upstream.Headers.TryGetValues(HeaderNames.Connection, out var tokens) ? new StringValues(tokens.ToArray()) : StringValues.Empty;
        foreach (var (name, values) in upstream.Headers)
        {
            if (IsForwarded(name, connection))
            {
                response.Headers[name] = values.ToArray();
            }
        }

        foreach (var (name, values) in upstream.Content.Headers)
        {
            if (IsForwarded(name, connection))
            {
                response.Headers[name] = values.ToArray();
            }
        }
    }
}
