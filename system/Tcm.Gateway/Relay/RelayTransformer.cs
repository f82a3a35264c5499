using Microsoft.AspNetCore.Http;
using Tcm.Gateway.KeepAlive;
using Tcm.Protocol;
using Yarp.ReverseProxy.Forwarder;
using HttpRequestMessage = System.Net.Http.HttpRequestMessage;
using HttpResponseMessage = System.Net.Http.HttpResponseMessage;

namespace Tcm.Gateway.Relay;

/// <summary>
/// The gateway's request and response transforms on top of YARP's header handling (hop-by-hop headers, the WebSocket
/// handshake's per-hop fields): the upstream address is the backend with the agent's path and query (not the
/// <c>/relay/{host}:{port}</c> path), the agent's <c>Host</c> is not passed on (TLS and <c>:authority</c> name the backend),
/// and the identity headers are the gateway's alone: whatever an agent sends under those names is dropped, then the
/// agent's certificate (base64 DER, when it has one) and the gateway's name are added. A channel whose pings the gateway
/// answers announces the gateway's keep-alive interval to the backend in the agent's stead (<see cref="RelayedKeepAlive"/>).
/// </summary>
internal sealed class RelayTransformer(Uri target, string? agentCertificateBase64, string gatewayName, Backend? backend = null, RelayedKeepAlive? keepAlive = null) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        proxyRequest.RequestUri = target;
        proxyRequest.Headers.Host = null;
        RelayHeaders.RemoveIdentity(proxyRequest.Headers);
        if (agentCertificateBase64 is not null)
        {
            proxyRequest.Headers.TryAddWithoutValidation(SiteServerPaths.ForwardedAgentCertificateHeader, agentCertificateBase64);
        }

        proxyRequest.Headers.TryAddWithoutValidation(SiteServerPaths.ViaHeader, gatewayName);
        if (keepAlive is { } relayed)
        {
            proxyRequest.Headers.Remove(ProtocolConstants.KeepAliveHeader);
            proxyRequest.Headers.TryAddWithoutValidation(ProtocolConstants.KeepAliveHeader, relayed.BackendHeader);
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        RelayHeaders.RemoveIdentity(httpContext.Response.Headers);
        if (backend?.UpstreamTls is { } tls)
        {
            // The agent's Network Status shows the second leg (gateway to server) as the gateway reports it.
            httpContext.Response.Headers[GatewayHeaders.BackendTls] = tls;
        }

        return copyBody;
    }
}
