using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Net.Http.Headers;

namespace Tcm.Gateway.Relay;

/// <summary>
/// Relays an agent's WebSocket (the persistent channel) to a configured backend. WebSocket frames are the same bytes over an
/// HTTP/1.1 upgrade and over an HTTP/2 stream (RFC 8441), so frames, pings, pongs and close codes with their descriptions
/// pass through unchanged, end to end, in both directions: the agent's and the backend's keep-alive see each other.
/// The exchange, step by step:
/// <list type="number">
/// <item>Check the opening: an HTTP/1.1 upgrade (<c>Upgrade: websocket</c> with a key) or an HTTP/2 extended CONNECT
/// (<c>:protocol websocket</c>); the caller has checked the certificate and the backend.</item>
/// <item>Build the upstream opening: an HTTP/2 extended CONNECT to the backend with the agent's WebSocket headers
/// (version, sub-protocols, extensions) and the forwarded identity.</item>
/// <item>Send it over the backend's shared handler (many tunnels, few connections); no answer: 502 <c>backend-unavailable</c>.</item>
/// <item>A backend that refuses (anything but 200) before the upgrade: its status, headers (<c>X-Tcm-Refusal</c>) and
/// <c>ErrorBody</c> reach the agent unchanged.</item>
/// <item>Accept the agent's side: 101 with <c>Sec-WebSocket-Accept</c> (HTTP/1.1) or 200 (HTTP/2), with the sub-protocol and
/// extensions the backend chose.</item>
/// <item>Copy both directions with two copiers (zero-byte reads, so an idle tunnel holds no buffer). The first direction to end,
/// the idle timeout, or shutdown ends the tunnel: cancel the other direction, and always await it.</item>
/// <item>Release the upstream stream (the HTTP/2 stream ends; the shared connection stays), count and report.</item>
/// </list>
/// </summary>
internal static class TunnelRelay
{
    private const string WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Whether the request opens a WebSocket, in either HTTP version.</summary>
    public static bool IsWebSocketOpening(HttpContext context)
    {
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            return string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);
        }

        return HttpMethods.IsGet(context.Request.Method)
            && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
            && context.Request.Headers.Upgrade.Any(v => string.Equals(v, "websocket", StringComparison.OrdinalIgnoreCase));
    }

    public static async ValueTask<RelayError> RelayAsync(HttpContext context, Backend backend, RelayAddress address, string agentCertificate, RelayServices services)
    {
        // :: Step 1: The opening
        var connect = context.Features.Get<IHttpExtendedConnectFeature>();
        var http2 = connect is { IsExtendedConnect: true };
        // The caller refused an HTTP/1.1 upgrade without a key.
        string? key = context.Request.Headers.SecWebSocketKey;

        // :: Step 2: The upstream opening
        using var request = new HttpRequestMessage(HttpMethod.Connect, new Uri(backend.BaseUri, address.PathAndQuery))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Protocol = "websocket";
        RelayHeaders.CopyRequestHeaders(context, request, agentCertificate, services.GatewayName);
        if (!request.Headers.Contains(HeaderNames.SecWebSocketVersion))
        {
            request.Headers.TryAddWithoutValidation(HeaderNames.SecWebSocketVersion, "13");
        }

        // :: Step 3: Send over the shared handler
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, services.Stopping.Token);
        HttpResponseMessage response;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token))
        {
            timeout.CancelAfter(services.Options.BackendResponseTimeout);
            try
            {
                response = await backend.Invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return RelayError.Canceled;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
                await RelayEndpoint.RefuseAsync(context, services, StatusCodes.Status502BadGateway, Protocol.CloseReasons.BackendUnavailable,
                    $"gateway '{services.GatewayName}' could not open a channel to backend '{backend.Name}' ({backend.Address}): {(ex is OperationCanceledException ? "no answer in time" : ex.Message)}").ConfigureAwait(false);
                return RelayError.BackendUnreachable;
            }
        }

        using (response)
        {
            // :: Step 4: A refusal before the upgrade passes through unchanged
            if (response.StatusCode != HttpStatusCode.OK)
            {
                RelayHeaders.CopyResponseHeaders(response, context.Response);
                var refusal = await response.Content.ReadAsStreamAsync(cancel.Token).ConfigureAwait(false);
                await StreamCopier.CopyAsync(refusal, context.Response.Body, services.Metrics.ToAgent, null, cancel.Token).ConfigureAwait(false);
                return RelayError.UpgradeRefused;
            }

            var backendStream = await response.Content.ReadAsStreamAsync(cancel.Token).ConfigureAwait(false);
            await using (backendStream.ConfigureAwait(false))
            {
                // :: Step 5: Accept the agent's side
                TunnelUpgrade.LiftBodyLimits(context);

                foreach (var name in (string[])[HeaderNames.SecWebSocketProtocol, HeaderNames.SecWebSocketExtensions])
                {
                    if (response.Headers.TryGetValues(name, out var values))
                    {
                        context.Response.Headers[name] = values.ToArray();
                    }
                }

                Stream agentStream;
                if (http2)
                {
                    agentStream = await connect!.AcceptAsync().ConfigureAwait(false);
                }
                else
                {
                    context.Response.Headers.Connection = "Upgrade";
                    context.Response.Headers.Upgrade = "websocket";
                    context.Response.Headers.SecWebSocketAccept = AcceptKey(key!);
                    agentStream = await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync().ConfigureAwait(false);
                }

                // :: Step 6: Copy both directions
                var tunnel = services.Tunnels.Open(backend.Name, cancel);
                backend.TunnelOpened();
                services.Metrics.TunnelOpened(backend.Name);
                try
                {
                    var toBackend = StreamCopier.CopyAsync(agentStream, backendStream, services.Metrics.ToBackend, tunnel, cancel.Token).AsTask();
                    var toAgent = StreamCopier.CopyAsync(backendStream, agentStream, services.Metrics.ToAgent, tunnel, cancel.Token).AsTask();
                    var first = await Task.WhenAny(toBackend, toAgent).ConfigureAwait(false);
                    await cancel.CancelAsync().ConfigureAwait(false);
                    var firstResult = await first.ConfigureAwait(false);
                    // why: the second copier is always awaited, so its buffer and streams are released before the tunnel is gone.
                    await (first == toBackend ? toAgent : toBackend).ConfigureAwait(false);
                    return Classify(firstResult, agentSide: first == toBackend, tunnel.WasIdle, context.RequestAborted.IsCancellationRequested || services.Stopping.IsCancellationRequested);
                }
                finally
                {
                    // :: Step 7: Release and count
                    services.Tunnels.Close(tunnel);
                    backend.TunnelClosed();
                    services.Metrics.TunnelClosed(backend.Name);
                }
            }
        }
    }

    /// <summary><c>Sec-WebSocket-Accept</c> for a key (RFC 6455 section 4.2.2).</summary>
    internal static string AcceptKey(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key.Trim() + WebSocketGuid)));

    /// <summary>What ended the tunnel, from the direction that ended first.</summary>
    internal static RelayError Classify(StreamCopyResult first, bool agentSide, bool idle, bool canceled) => first switch
    {
        _ when idle => RelayError.TunnelIdle,
        StreamCopyResult.Completed => RelayError.None,
        StreamCopyResult.Canceled => canceled ? RelayError.Canceled : RelayError.None,
        StreamCopyResult.InputError => agentSide ? RelayError.TunnelAgent : RelayError.TunnelBackend,
        StreamCopyResult.OutputError => agentSide ? RelayError.TunnelBackend : RelayError.TunnelAgent,
        _ => throw new ArgumentOutOfRangeException(nameof(first), first, "unknown copy result"),
    };
}
