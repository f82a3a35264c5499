using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Tcm.Gateway.Diagnostics;
using Tcm.Gateway.KeepAlive;
using Tcm.Hosting.Listeners;

namespace Tcm.Gateway.Relay;

/// <summary>
/// Stands in for Kestrel's upgrade features (HTTP/1.1 <c>Upgrade</c>, HTTP/2 extended CONNECT) during one relayed WebSocket,
/// so the moment the forwarder accepts the agent's side is also the gateway's: the request's body limits are lifted, the
/// tunnel is counted open, and its bytes are counted in both directions.
/// </summary>
internal sealed class TunnelUpgrade : IHttpUpgradeFeature, IHttpExtendedConnectFeature
{
    private readonly HttpContext _context;
    private readonly IHttpUpgradeFeature? _upgrade;
    private readonly IHttpExtendedConnectFeature? _connect;
    private readonly Backend _backend;
    private readonly GatewayMetrics _metrics;
    private readonly RelayedKeepAlive? _keepAlive;
    private readonly RelayServices? _services;
    private readonly HandshakeDeadline? _handshake;
    private IDisposable? _watched;
    private bool _closed;

    private TunnelUpgrade(HttpContext context, Backend backend, GatewayMetrics metrics, RelayedKeepAlive? keepAlive, RelayServices? services, HandshakeDeadline? handshake)
    {
        _handshake = handshake;
        _context = context;
        _upgrade = context.Features.Get<IHttpUpgradeFeature>();
        _connect = context.Features.Get<IHttpExtendedConnectFeature>();
        _backend = backend;
        _metrics = metrics;
        _keepAlive = keepAlive;
        _services = services;
    }

    /// <summary>Whether the agent's side was accepted (the tunnel was opened; <see cref="Close"/> counts it closed).</summary>
    public bool Opened { get; private set; }

    public bool IsUpgradableRequest => _upgrade?.IsUpgradableRequest ?? false;

    public bool IsExtendedConnect => _connect?.IsExtendedConnect ?? false;

    public string? Protocol => _connect?.Protocol;

    /// <summary>
    /// Puts the stand-in in place of the request's upgrade features. With <paramref name="keepAlive"/>, the agent's side answers
    /// the agent's pings (<see cref="AgentKeepAliveStream"/>) and is watched for the agent's silence (<see cref="TunnelWatch"/>);
    /// <paramref name="handshake"/> is disarmed when the tunnel opens.
    /// </summary>
    public static TunnelUpgrade Install(HttpContext context, Backend backend, GatewayMetrics metrics, RelayedKeepAlive? keepAlive = null, RelayServices? services = null,
        HandshakeDeadline? handshake = null)
    {
        var tunnel = new TunnelUpgrade(context, backend, metrics, keepAlive, services, handshake);
        if (tunnel._upgrade is not null)
        {
            context.Features.Set<IHttpUpgradeFeature>(tunnel);
        }

        if (tunnel._connect is not null)
        {
            context.Features.Set<IHttpExtendedConnectFeature>(tunnel);
        }

        return tunnel;
    }

    /// <summary>A tunnel carries bytes for as long as it lives: no request body limit, no minimum data rate.</summary>
    public static void LiftBodyLimits(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxBody)
        {
            maxBody.MaxRequestBodySize = null;
        }

        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRate)
        {
            minRate.MinDataRate = null;
        }
    }

    public async Task<Stream> UpgradeAsync()
    {
        LiftBodyLimits(_context);
        return Open(await _upgrade!.UpgradeAsync().ConfigureAwait(false));
    }

    public async ValueTask<Stream> AcceptAsync()
    {
        LiftBodyLimits(_context);
        return Open(await _connect!.AcceptAsync().ConfigureAwait(false));
    }

    /// <summary>Counts the tunnel closed, if it was opened.</summary>
    public void Close()
    {
        _watched?.Dispose();
        if (Opened && !_closed)
        {
            _closed = true;
            _backend.TunnelClosed();
            _metrics.TunnelClosed(_backend.Name);
        }
    }

    private Stream Open(Stream agent)
    {
        _handshake?.Disarm();
        Opened = true;
        // why: the backend accepted the channel, so the agent's connect is done; its place admits the next connection's TLS.
        ConnectAdmission.Done(_context);
        _backend.TunnelOpened();
        _metrics.TunnelOpened(_backend.Name);
        if (_keepAlive is not { } keepAlive || _services is null)
        {
            // why: Kestrel owns the upgraded stream and ends it with the request.
            return new Tcm.Protocol.CountingStream(agent, _metrics.ToBackend, _metrics.ToAgent, ownsInner: false);
        }

        var answering = new AgentKeepAliveStream(agent, keepAlive.ForwardAfter, _services.Time, _metrics.CountKeepAlive, _metrics.ToBackend, _metrics.ToAgent);
        _watched = _services.Watch.Watch(_context, answering, keepAlive.SilenceLimit);
        return answering;
    }
}
