using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Tcm.Gateway.KeepAlive;
using Tcm.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace Tcm.Gateway.Relay;

/// <summary>
/// Relays one agent request or WebSocket to a configured backend with YARP's <see cref="IHttpForwarder"/> (direct forwarding,
/// no routes or clusters: <see cref="RelayEndpoint"/> has already chosen the backend from the allow-list). The exchange, step
/// by step:
/// <list type="number">
/// <item>Count what passes: the request and response bodies, or, for a WebSocket, the tunnel (opened when the forwarder
/// accepts the agent's side, through <see cref="TunnelUpgrade"/>) and its bytes.</item>
/// <item>Forward over the backend's shared handler: HTTP/2 (or lower, by ALPN); a WebSocket as HTTP/2 extended CONNECT where
/// the backend offers it (many agents' channels on few connections), else as an HTTP/1.1 upgrade, from either agent
/// version. <see cref="RelayTransformer"/> sets the address and the forwarded identity.</item>
/// <item>A backend not reached, or silent past <see cref="GatewayOptions.BackendResponseTimeout"/>: 502/504
/// <c>backend-unavailable</c> with a reason, as every refusal; a backend's own refusal (status, headers, <c>ErrorBody</c>)
/// reaches the agent unchanged.</item>
/// <item>Count the tunnel closed and say how the exchange ended, as a <see cref="RelayError"/>; anything but a completion is
/// counted in <c>tcm.gateway.relay.errors</c> by kind.</item>
/// </list>
/// </summary>
internal sealed class RelayForwarder(IHttpForwarder forwarder, IOptions<GatewayOptions> options)
{
    /// <summary>Requests: silence (no headers, no body bytes) for the backend response timeout ends the exchange.</summary>
    internal ForwarderRequestConfig Http { get; } = Config(options.Value.BackendResponseTimeout);

    /// <summary>
    /// Tunnels: YARP's activity timeout is the tunnel's idle timeout (it restarts on every byte either way), not the request
    /// timeout, so a channel quiet between its keep-alives stays open.
    /// </summary>
    internal ForwarderRequestConfig Tunnel { get; } = Config(options.Value.TunnelIdleTimeout);

    /// <summary>
    /// Tunnels whose agent announced its keep-alive: no activity timeout (no timer per tunnel); the backend's answer to the
    /// upgrade has a <see cref="HandshakeDeadline"/>, and the open tunnel ends when <see cref="TunnelWatch"/> finds its agent silent.
    /// </summary>
    internal ForwarderRequestConfig WatchedTunnel { get; } = Config(Timeout.InfiniteTimeSpan);

    public async ValueTask<RelayError> RelayAsync(HttpContext context, Backend backend, RelayAddress address, string? agentCertificate, bool tunnel, RelayServices services)
    {
        // :: Step 1: Count what passes
        TunnelUpgrade? upgrade = null;
        RelayedKeepAlive? keepAlive = null;
        HandshakeDeadline? handshake = null;
        if (tunnel)
        {
            keepAlive = RelayedKeepAlive.For(context.Request, services.Options);
            if (keepAlive is { } watched)
            {
                handshake = new HandshakeDeadline(watched.HandshakeTimeout(options.Value.TunnelIdleTimeout), services.Time, services.Stopping.Token);
            }

            upgrade = TunnelUpgrade.Install(context, backend, services.Metrics, keepAlive, services, handshake);
        }
        else
        {
            if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
            {
                context.Request.Body = new CountingStream(context.Request.Body, services.Metrics.ToBackend, null, ownsInner: false);
            }

            context.Response.Body = new CountingStream(context.Response.Body, null, services.Metrics.ToAgent, ownsInner: false);
        }

        // :: Step 2: Forward
        var transformer = new RelayTransformer(new Uri(backend.BaseUri, address.PathAndQuery), agentCertificate, services.GatewayName, backend, keepAlive);
        var config = !tunnel ? Http : handshake is not null ? WatchedTunnel : Tunnel;
        ForwarderError error;
        bool opened;
        var handshakeExpired = false;
        try
        {
            error = await forwarder.SendAsync(context, backend.BaseUri.OriginalString, backend.Invoker, config, transformer,
                handshake?.Token ?? (tunnel ? services.Stopping.Token : CancellationToken.None)).ConfigureAwait(false);
        }
        finally
        {
            // :: Step 4: Count the tunnel closed
            opened = upgrade?.Opened == true;
            upgrade?.Close();
            handshakeExpired = handshake?.Expired == true;
            handshake?.Dispose();
        }

        // why: YARP reads the handshake deadline as a cancellation; a backend that did not answer in time is a timeout, as with YARP's own.
        if (handshakeExpired && !opened && error == ForwarderError.RequestCanceled)
        {
            error = ForwarderError.RequestTimedOut;
        }

        // :: Step 3: The backend not reached
        if (error is ForwarderError.Request or ForwarderError.RequestCreation or ForwarderError.RequestTimedOut or ForwarderError.ResponseHeaders)
        {
            var timedOut = error == ForwarderError.RequestTimedOut;
            var why = timedOut ? "no answer in time" : context.Features.Get<IForwarderErrorFeature>()?.Exception?.Message ?? error.ToString();
            var what = tunnel ? "open a channel to" : "reach";
            await RelayEndpoint.RefuseAsync(context, services, timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway, CloseReasons.BackendUnavailable,
                $"gateway '{services.GatewayName}' could not {what} backend '{backend.Name}' ({backend.Address}): {why}").ConfigureAwait(false);
            services.Metrics.RelayFailed(RelayError.BackendUnreachable);
            return RelayError.BackendUnreachable;
        }

        if (!tunnel && error != ForwarderError.RequestCanceled)
        {
            backend.RequestRelayed();
        }

        var result = tunnel && !opened && error == ForwarderError.None ? RelayError.UpgradeRefused : error.ToRelayError();
        if (result != RelayError.None)
        {
            services.Metrics.RelayFailed(result);
        }

        return result;
    }

    private static ForwarderRequestConfig Config(TimeSpan activityTimeout) => new()
    {
        ActivityTimeout = activityTimeout,
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };
}
