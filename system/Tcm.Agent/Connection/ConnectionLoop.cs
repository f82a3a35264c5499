using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Routing;
using Tcm.Agent.Status;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Connection;

/// <summary>
/// One of the agent's two server connections, run as one async loop: the core agent's to its Notification Server and the Client Task
/// Agent's to its Task Server, the same code over an <see cref="IConnectionRole"/> for what differs. It owns its state
/// (<see cref="ConnectionState"/>, with its own lock), its handler, its back-off and its wake-up signal. The connect sequence:
/// <list type="number">
/// <item>Have an identity: the NS role registers with the install package when there is none; the TS role waits for one.</item>
/// <item>Await the routing decision (<see cref="RouteKeeper.EnsureCurrentAsync"/>): a pending re-evaluation runs first, so no connection
/// leaves on a decision a detected change would alter (the article's fix #1).</item>
/// <item>Choose whom to call: the Notification Server, or a Task Server by the policy's method; the route (Direct or the gateway's relay)
/// follows the one decision both connections share. No Task Server listed: wait for a policy that lists one.</item>
/// <item>Ask whether the channel is wanted now: "TCM communication" on, a communication profile with persistent connections, no refusal
/// waiting for the next policy, no back-off or terminate delay running. Not wanted: show why and go to step 12.</item>
/// <item>Log the attempt in the product's words ("Connecting to target server ..., attempt n", or the two CEM gateway lines).</item>
/// <item>Open the WebSocket through the agent's handler: TCP from <see cref="Network.INetwork"/>, TLS against the package CA with the client
/// certificate, HTTP/2 extended CONNECT or HTTP/1.1 upgrade, sub-protocol <c>tcm.v1</c> (<see cref="ChannelClient"/>).</item>
/// <item>A refused upgrade: read the status and <c>X-Tcm-Refusal</c> and fall back to HTTP until the next policy (re-register on
/// unknown-agent; the TS role fails over). A failure: back off with jitter, HTTP meanwhile.</item>
/// <item>Log "Target server '{host}:{port}' connected" and send hello with the role and the last received push sequence number (which
/// acknowledges everything up to it).</item>
/// <item>Wait for welcome (<see cref="AgentOptions.HelloTimeout"/>); a close or an error instead is a refusal or a failure.</item>
/// <item>Become persistent: reset the back-off, leave at once if the route or the policy changed meanwhile, request the policy when the
/// welcome's ETag differs (NS), re-send unacknowledged results.</item>
/// <item>Receive and dispatch messages until the channel closes; classify the end (route changed, closed by policy, terminated,
/// refused, dropped), fail pending requests so they retry over HTTP, and schedule the next attempt.</item>
/// <item>Off the channel: the role's HTTP work when due (NS: policy request, task poll, Network Status; TS: task poll, fail-over when it
/// fails), then wait for the next due time or a signal (a policy, a route change, a stop).</item>
/// </list>
/// </summary>
internal sealed partial class ConnectionLoop : IDisposable
{
    /// <summary>How long the agent waits for its own close frame to go out when it leaves a channel for a route or a policy.</summary>
    private static readonly TimeSpan CloseSendTimeout = TimeSpan.FromSeconds(2);

    private readonly AgentContext _agent;
    private readonly IConnectionRole _role;
    private readonly ILogger _logger;
    private volatile AgentTransport? _transport;

    public ConnectionLoop(AgentContext agent, AgentCounters counters, IDelivery delivery, Func<NetworkStatus> status, Func<ConnectionLoop, IConnectionRole> role)
    {
        _agent = agent;
        _logger = agent.Logger;
        Counters = counters;
        Signal = new LoopSignal(agent.Time);
        Backoff = new Backoff(agent.Options.Backoff);
        _role = role(this);
        Channels = new ChannelClient(agent, this, delivery, status);
        Requests = new ServerRequests(agent, this);
    }

    public ChannelRole Role => _role.Traits.Role;

    public IConnectionRole Strategy => _role;

    public ConnectionState State { get; } = new();

    /// <summary>Wakes this loop.</summary>
    public LoopSignal Signal { get; }

    public Backoff Backoff { get; }

    /// <summary>Bytes and events of this connection (the NS one is the agent's counters).</summary>
    public AgentCounters Counters { get; }

    public ChannelClient Channels { get; }

    /// <summary>The one way this connection makes a request: over its channel while it is up, else HTTP.</summary>
    public ServerRequests Requests { get; }

    /// <summary>The TLS of this connection's own handler, once it made a connection.</summary>
    public TlsInfo? Tls => _transport?.Tls;

    /// <summary>The connect sequence (see the class), after <paramref name="startDelay"/> (the agent's start jitter), until the agent stops.</summary>
    public async Task RunAsync(TimeSpan startDelay, CancellationToken stop)
    {
        if (startDelay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(startDelay, _agent.Time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        while (!stop.IsCancellationRequested && !_agent.Stopping)
        {
            try
            {
                // :: Step 1: an identity
                if (_agent.Identity is null)
                {
                    await _role.AwaitIdentityAsync(stop).ConfigureAwait(false);
                    continue;
                }

                // :: Step 2: the routing decision, current
                await _agent.Routes.EnsureCurrentAsync(stop).ConfigureAwait(false);

                // :: Step 3: whom to call
                await _role.PrepareChoiceAsync(stop).ConfigureAwait(false);
                var now = _agent.Time.GetUtcNow();
                if (_role.ChooseRoute(now) is not { } route)
                {
                    await Signal.WaitAsync(TimeSpan.FromHours(1), stop).ConfigureAwait(false);
                    continue;
                }

                // :: Step 4: is the channel wanted now?
                if (ChannelWanted(now, out var notWantedReason, out var channelDue))
                {
                    // :: Steps 5-11: the channel, until it ends
                    await RunChannelAsync(route, stop).ConfigureAwait(false);
                    continue;
                }

                if (notWantedReason is not null)
                {
                    SetHttpReason(notWantedReason);
                }

                // :: Step 12: HTTP work when due, then wait
                if (!await _role.DoHttpWorkAsync(route, stop).ConfigureAwait(false))
                {
                    continue;
                }

                var wakeAt = _role.NextHttpWork();
                if (channelDue is { } due && due < wakeAt)
                {
                    wakeAt = due;
                }

                await Signal.WaitAsync(wakeAt - _agent.Time.GetUtcNow(), stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (UnknownAgentException ex) when (_role.OnUnknownAgent(ex))
            {
            }
            catch (Exception ex)
            {
                var delay = Backoff.Next();
                Log.LoopFailed(_logger, DelayText.Format(delay), ex);
                try
                {
                    await Signal.WaitAsync(delay, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Whether to open the channel now. When not: the reason to show (null to keep the current one, e.g. a refusal or back-off)
    /// and, when the policy allows the channel, when it is due again.
    /// </summary>
    public bool ChannelWanted(DateTimeOffset now, out string? reason, out DateTimeOffset? due)
    {
        due = null;
        reason = PolicyRefusal(_agent.Policy);
        return reason is null && State.ChannelAllowedAt(now, out due);
    }

    /// <summary>
    /// A (new) identity: the handler of the previous one is released, and this connection's own handler is built for the new one when
    /// it is first needed (a Task Server connection without a Task Server, or one that goes through the gateway, never holds one).
    /// </summary>
    public void ResetTransport() => Interlocked.Exchange(ref _transport, null)?.Dispose();

    /// <summary>Whether this connection holds a handler of its own now (for tests).</summary>
    internal bool HasOwnTransport => _transport is not null;

    /// <summary>Whom this connection's traffic goes through on <paramref name="route"/>: its own handler, or the gateway's shared one.</summary>
    public AgentTransport TransportFor(AgentRoute route) =>
        route.Mode == ConnectionMode.Cem ? _agent.GatewayTransport(route.Plan) : OwnTransport();

    /// <summary>This connection's own handler for the current identity, built on first use.</summary>
    private AgentTransport OwnTransport()
    {
        var identity = _agent.Identity ?? throw new InvalidOperationException("no transport before registration");
        while (true)
        {
            var seen = _transport;
            if (seen is not null && ReferenceEquals(seen.Identity, identity))
            {
                return seen;
            }

            var certificate = AgentTransport.LoadClientCertificate(identity.ClientCertificatePem, identity.PrivateKeyPem);
            var created = new AgentTransport(_agent.Network, identity.CaCertificatePem, certificate, Counters, _agent.Options.HttpVersion, _agent.Options.RequestTimeout, _role.Traits.Purpose)
            {
                Identity = identity,
            };
            if (ReferenceEquals(Interlocked.CompareExchange(ref _transport, created, seen), seen))
            {
                seen?.Dispose();
                return created;
            }

            created.Dispose();
        }
    }

    /// <summary>
    /// A policy arrived: the channel may be tried again, and an open channel the policy no longer allows is closed when the server
    /// would not close it itself (a Task Server does not know the NS's "TCM communication" setting).
    /// </summary>
    public async Task ApplyPolicyAsync(PolicyDocument policy, CancellationToken ct)
    {
        State.BlockedUntilPolicy = false;
        if (!_role.Traits.ServerEnforcesPolicy && PolicyRefusal(policy) is { } reason && State.RequestPolicyClose() is { } channel)
        {
            await CloseForPolicyAsync(channel, reason, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The routing decision changed: close the open channel and reconnect at once, without back-off, on the new route.</summary>
    public async Task MoveToRouteAsync(RoutePlan plan, CancellationToken ct)
    {
        Backoff.Reset();
        if (State.PrepareRouteChange(_agent.Time.GetUtcNow()) is { } channel)
        {
            await CloseForRouteChangeAsync(channel, plan, ct).ConfigureAwait(false);
        }

        _role.OnRouteChanged();
    }

    /// <summary>The Network Status panel's facts of this connection.</summary>
    public ConnectionFacts Facts()
    {
        var (route, reachable, persistent, httpReason, connectedSince) = State.Snapshot();
        var cem = route?.Mode == ConnectionMode.Cem;
        var tls = cem ? null : Tls;
        var gatewayTls = cem ? _agent.GatewayTls : null;
        var backendTls = cem ? State.BackendTls : null;
        var proxy = _agent.Proxied.UseFor(route?.Gateway ?? route?.HostAndPort);
        var observed = new NetworkStatus
        {
            ServerAddress = route?.HostAndPort,
            Mode = route?.Mode ?? ConnectionMode.Direct,
            RouteReason = route?.Reason,
            TlsProtocol = tls?.Protocol,
            CipherSuite = tls?.CipherSuite,
            ServerCertificate = tls?.Certificate,
            GatewayTlsProtocol = gatewayTls?.Protocol,
            GatewayCipherSuite = gatewayTls?.CipherSuite,
            GatewayCertificate = gatewayTls?.Certificate,
            BackendTlsProtocol = backendTls?.Protocol,
            BackendCipherSuite = backendTls?.CipherSuite,
            LastAttempt = State.LastAttempt,
            BytesSent = Counters.BytesSent,
            BytesReceived = Counters.BytesReceived,
            ConnectedSince = connectedSince,
            Proxy = proxy.Via,
            ProxyProblem = proxy.Problem,
        };
        return new ConnectionFacts(observed, reachable, persistent, httpReason);
    }

    public void SetReachable(bool reachable)
    {
        if (!reachable)
        {
            // A failed connection re-evaluates the route before the next attempt (it probes the server directly).
            _agent.Routes.Request($"a connection to the {_role.Traits.ServerKind} failed");
        }

        if (State.SetReachable(reachable))
        {
            _agent.StatusMayHaveChanged();
        }
    }

    public void SetHttpReason(string reason)
    {
        if (State.SetHttpReason(reason))
        {
            _agent.StatusMayHaveChanged();
        }
    }

    /// <summary>Back off with jitter, at least <paramref name="notBefore"/> (a busy server's hint) on top: HTTP until the next attempt.</summary>
    public void BackOff(AgentRoute route, string reason, TimeSpan notBefore = default)
    {
        var attempt = Backoff.Attempt + 1;
        var delay = notBefore + Backoff.Next();
        State.ChannelNotBefore = _agent.Time.GetUtcNow() + delay;
        SetHttpReason($"reconnecting: {reason}");
        Log.Backoff(_logger, route.HostAndPort, DelayText.Format(delay), attempt, reason);
        _role.OnFailure(route, reason);
    }

    /// <summary>HTTP until the next policy (a refusal: the server will not take the channel before its settings change).</summary>
    public void FallBackUntilPolicy(AgentRoute route, string reason)
    {
        State.BlockedUntilPolicy = true;
        var policyAt = _agent.NextPolicyRefresh;
        var tasksAt = State.NextTaskPoll;
        SetHttpReason(reason);
        var now = _agent.Time.GetUtcNow();
        Log.FallbackToHttp(_logger, route.HostAndPort, reason, DelayText.Format(Max(policyAt - now, TimeSpan.Zero)), DelayText.Format(Max(tasksAt - now, TimeSpan.Zero)));
    }

    public void Dispose()
    {
        _transport?.Dispose();
        Signal.Dispose();
    }

    /// <summary>Why the policy does not allow a persistent connection, or null when it does.</summary>
    internal static string? PolicyRefusal(PolicyDocument? policy) =>
        policy is null || !policy.TcmEnabled ? $"{CloseReasons.TcmDisabled}: TCM communication is off on the Notification Server"
        : !policy.Communication.PersistentConnection ? $"{CloseReasons.NotTargeted}: the communication profile does not enable persistent connections"
        : null;

    private async Task CloseForRouteChangeAsync(AgentChannel channel, RoutePlan plan, CancellationToken ct)
    {
        // The close frame tells the server why; the old path may be gone (VPN down), so the socket is aborted right after.
        using var timeout = new CancellationTokenSource(CloseSendTimeout, _agent.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, $"route changed: now {plan.EffectiveMode}", linked.Token).ConfigureAwait(false);
        channel.Abort();
    }

    private async Task CloseForPolicyAsync(AgentChannel channel, string reason, CancellationToken ct)
    {
        Log.ClosingForPolicy(_logger, State.Route?.HostAndPort, reason);
        // The server answers the close and the receive loop ends by itself; the channel cuts off a server that does not.
        using var timeout = new CancellationTokenSource(CloseSendTimeout, _agent.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, reason, linked.Token).ConfigureAwait(false);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(1024, LogLevel.Information, "Falling back to HTTP with '{HostAndPort}' ({Reason}); next policy request in {PolicyIn}, next task poll in {TasksIn}", EventName = "FallbackToHttp")]
        public static partial void FallbackToHttp(ILogger logger, string hostAndPort, string reason, string policyIn, string tasksIn);

        [LoggerMessage(1025, LogLevel.Information, "Reconnecting to target server '{HostAndPort}' in {Delay} (attempt {Attempt}), using HTTP meanwhile; {Reason}", EventName = "Backoff")]
        public static partial void Backoff(ILogger logger, string hostAndPort, string delay, int attempt, string reason);

        [LoggerMessage(1034, LogLevel.Information, "Closing the persistent connection to '{HostAndPort}': the policy no longer allows it ({Reason})", EventName = "ClosingForPolicy")]
        public static partial void ClosingForPolicy(ILogger logger, string? hostAndPort, string reason);

        [LoggerMessage(1061, LogLevel.Error, "The agent loop failed unexpectedly; continuing in {Delay}", EventName = "LoopFailed")]
        public static partial void LoopFailed(ILogger logger, string delay, Exception exception);
    }
}
