using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Connection;
using Tcm.Agent.Network;
using Tcm.Agent.Routing;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent;

// Routing: the one decision (Direct or CEM) both connections follow, its re-evaluation, and the gateway's shared handler.
public sealed partial class TcmAgent
{
    // The gateway's handler, shared by the NS and the TS connection (one TCP connection, HTTP/2, carries both); under _gate.
    private AgentTransport? _gatewayTransport;
    private string? _gatewayKey;

    /// <summary>The routing decision both connections follow now (for tests and the simulator).</summary>
    internal RoutePlan RoutePlan => _routes.Plan;

    /// <summary>The routes the NS and the TS connection use now (null before they have one).</summary>
    internal (AgentRoute? NotificationServer, AgentRoute? TaskServer) PlannedRoutes
    {
        get
        {
            lock (_gate)
            {
                return (_ns.Route, _ts.Route);
            }
        }
    }

    private void OnAdaptersChanged(object? sender, EventArgs e)
    {
        if (_stopping || _identity is null)
        {
            // Before registration the registration loop re-evaluates at its next attempt.
            _routes.Request("network adapters changed");
            return;
        }

        _routes.Request("network adapters changed");
        StartBackground(ReevaluateInBackgroundAsync);
    }

    /// <summary>Re-evaluates now, even while both loops are busy in their channels (a policy push, an adapter change).</summary>
    private async Task ReevaluateInBackgroundAsync(CancellationToken ct)
    {
        try
        {
            await _routes.EnsureCurrentAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Whether <paramref name="current"/> changes an input of the routing decision that <paramref name="previous"/> had.</summary>
    private static bool RoutingInputsChanged(PolicyDocument? previous, PolicyDocument current) =>
        previous is null
        || previous.Settings.PreferCem != current.Settings.PreferCem
        || previous.Settings.PreferCemIfVpn != current.Settings.PreferCemIfVpn
        || !previous.Settings.VpnAdapters.SequenceEqual(current.Settings.VpnAdapters, StringComparer.OrdinalIgnoreCase)
        || previous.Communication.Cem != current.Communication.Cem
        || !previous.Communication.ServerHosts.SequenceEqual(current.Communication.ServerHosts, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A changed decision moves BOTH persistent connections at once: each open channel is closed (normal closure, "route changed")
    /// and reconnects at once, without back-off, on the route of the new plan; HTTP requests follow the new plan from now on.
    /// </summary>
    private async Task MoveConnectionsAsync(RoutePlan previous, RoutePlan plan, CancellationToken ct)
    {
        Log.MovingConnections(_logger, previous.EffectiveMode, plan.EffectiveMode, plan.Gateway ?? "-");
        var now = _time.GetUtcNow();
        var channels = new List<AgentChannel>(2);
        foreach (var conn in new[] { _ns, _ts })
        {
            conn.Backoff.Reset();
            lock (_gate)
            {
                conn.ChannelNotBefore = now;
                conn.ChannelBlockedUntilPolicy = false;
                if (conn.Channel is { } channel)
                {
                    conn.RouteChangeRequested = true;
                    channels.Add(channel);
                }
            }
        }

        foreach (var channel in channels)
        {
            await CloseForRouteChangeAsync(channel, plan).ConfigureAwait(false);
        }

        UpdateRoute();
        _ns.Signal.Set();
        _ts.Signal.Set();
    }

    private async Task CloseForRouteChangeAsync(AgentChannel channel, RoutePlan plan)
    {
        // The close frame tells the server why; the old path may be gone (VPN down), so the socket is aborted right after.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
        await channel.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, $"route changed: now {plan.EffectiveMode}", timeout.Token).ConfigureAwait(false);
        channel.Socket.Abort();
    }

    /// <summary>Whom a connection's traffic goes through on <paramref name="route"/>: its own handler, or the gateway's shared one.</summary>
    private AgentTransport TransportFor(ServerConnection conn, AgentRoute route) =>
        route.Mode == ConnectionMode.Cem
            ? GatewayTransport(route.Plan)
            : conn.Transport ?? throw new InvalidOperationException("no transport before registration");

    /// <summary>
    /// The one handler to the gateway (HTTP/2 preferred, so one TCP connection carries the NS and the TS channel and the HTTP requests):
    /// the agent's client certificate, the gateway's certificate validated against the CEM settings' CA, else the NS CA.
    /// </summary>
    private AgentTransport GatewayTransport(RoutePlan plan)
    {
        var identity = _identity ?? throw new InvalidOperationException("no identity before registration");
        var trust = string.IsNullOrWhiteSpace(plan.Cem?.GatewayCaCertificatePem) ? identity.CaCertificatePem : plan.Cem.GatewayCaCertificatePem;
        var key = $"{identity.AgentId}\n{plan.Gateway}\n{trust}";
        lock (_gate)
        {
            if (_gatewayTransport is { } current && _gatewayKey == key)
            {
                return current;
            }
        }

        var certificate = AgentTransport.LoadClientCertificate(identity.ClientCertificatePem, identity.PrivateKeyPem);
        var created = new AgentTransport(_network, trust, certificate, Counters, _options.HttpVersion, _options.RequestTimeout, TrafficPurpose.Management);
        AgentTransport? old;
        lock (_gate)
        {
            if (_gatewayTransport is { } raced && _gatewayKey == key)
            {
                created.Dispose();
                return raced;
            }

            old = _gatewayTransport;
            _gatewayTransport = created;
            _gatewayKey = key;
        }

        old?.Dispose();
        return created;
    }

    /// <summary>The article's "CEM gateway connection is preferred while connecting to ..." list: the servers this connection may call.</summary>
    private string CemTargets(ServerConnection conn, AgentRoute route)
    {
        if (conn.Role == ChannelRole.NotificationServer && _policy?.Communication.ServerHosts is { Count: > 0 } hosts)
        {
            return string.Join(';', hosts);
        }

        return route.HostAndPort;
    }

    private static partial class Log
    {
        [LoggerMessage(1084, LogLevel.Information, "Moving both persistent connections from {Previous} to {Mode} (gateway {Gateway})", EventName = "MovingConnections")]
        public static partial void MovingConnections(ILogger logger, ConnectionMode previous, ConnectionMode mode, string gateway);

        [LoggerMessage(1085, LogLevel.Information, "CEM gateway connection is preferred while connecting to {Targets}", EventName = "CemPreferred")]
        public static partial void CemPreferred(ILogger logger, string targets);

        [LoggerMessage(1086, LogLevel.Information, "Connecting to CEM gateway '{Host}' at {GatewayHost}:{GatewayPort}, attempt {Attempt}", EventName = "ConnectingToGateway")]
        public static partial void ConnectingToGateway(ILogger logger, string host, string gatewayHost, int gatewayPort, int attempt);
    }
}
