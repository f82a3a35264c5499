using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Network;
using Tcm.Agent.Routing;
using Tcm.Agent.State;
using Tcm.Agent.Status;
using Tcm.Agent.Tasks;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Connection;

/// <summary>
/// What both connection loops share: the agent's identity, its policy and when to ask for it again, the delivery bookkeeping, the
/// one routing decision, the gateway's handler (one TCP connection carries both channels through CEM), saving, and background work.
/// Each loop's own state stays in its <see cref="ConnectionLoop"/>.
/// </summary>
internal sealed partial class AgentContext : IDisposable
{
    private readonly IAgentStateStore _store;
    private readonly SemaphoreSlim _saveGate = new(1, 1);
    private readonly Lock _gate = new();
    // A few tasks at a time: sized for that, not for the default 31 buckets and a lock per core (thousands of agents in a simulator).
    private readonly ConcurrentDictionary<Task, byte> _background = new(concurrencyLevel: 1, capacity: 2);
    private readonly CancellationTokenSource _stopCts = new();
    private volatile AgentState? _identity;
    private volatile PolicyDocument? _policy;
    private int _serverHost;
    private volatile DeliveryBook _book = new();
    private volatile bool _stopping;
    private IReadOnlyList<ConnectionLoop> _loops = [];

    // Under _gate: the policy's schedule and the gateway's handler, shared by both connections.
    private DateTimeOffset _nextPolicyRefresh;
    private AgentTransport? _gatewayTransport;
    private string? _gatewayKey;

    // While on a fallback route (CEM because the NS did not answer): one timer that probes the preferred route again, with back-off.
    // Both made under _gate at the first fallback (thousands of simulated agents never have one).
    private Backoff? _probeBackoff;
    private ITimer? _probeTimer;

    // After a connection went directly because the proxy failed: asks the proxy again, with back-off, and returns through it. Made
    // under _gate at the first such connection: most agents have no proxy, and a simulator holds thousands of agents.
    private ProxyReturn? _proxyReturn;

    public AgentContext(AgentOptions options, INetwork network, IAgentStateStore store, TimeProvider time, ILogger logger, AgentCounters counters)
    {
        Options = options;
        Proxied = new ProxiedNetwork(network, () => ProxyOf(options.Package, _policy), HttpClient.DefaultProxy, logger);
        Network = Proxied;
        _store = store;
        Time = time;
        Pings = new ChannelPings(time);
        Logger = logger;
        Counters = counters;
        Routes = new RouteKeeper(options.Package, Network, time, options.ProbeTimeout, () => _policy, logger)
        {
            RouteChanged = MoveConnectionsAsync,
            Evaluated = ScheduleProbeOfPreferredRoute,
            ServerHost = () => ServerHost,
        };
        Proxied.WentDirect = WentDirect;
    }

    public AgentOptions Options { get; }

    /// <summary>The agent's way out: the machine's network through the profile's proxy (every HTTP connection, channel and probe).</summary>
    public INetwork Network { get; }

    /// <summary><see cref="Network"/>, which also says how the last connection to a destination went (via proxy or not).</summary>
    public ProxiedNetwork Proxied { get; }
    public TimeProvider Time { get; }
    public ILogger Logger { get; }

    /// <summary>The keep-alive of every channel of the agent, on one tick.</summary>
    public ChannelPings Pings { get; }

    /// <summary>The agent's counters (the NS connection's bytes and all delivery events).</summary>
    public AgentCounters Counters { get; }

    public RouteKeeper Routes { get; }

    /// <summary>
    /// Which of the policy's server hosts (several Notification Server nodes) the Notification Server connection calls, counted from 0
    /// round the list: the next one after a failure.
    /// </summary>
    public int ServerHost => Volatile.Read(ref _serverHost);

    /// <summary>Moves the Notification Server connection to the policy's next server host; returns the new number.</summary>
    public int NextServerHost() => Interlocked.Increment(ref _serverHost);

    public AgentState? Identity { get => _identity; set => _identity = value; }

    public PolicyDocument? Policy { get => _policy; set => _policy = value; }

    /// <summary>The delivery bookkeeping; a new registration starts a new one.</summary>
    public DeliveryBook Book { get => _book; set => _book = value; }

    /// <summary>The id before a lost identity, sent when registering again so the server keeps history.</summary>
    public string? PreviousAgentId { get; set; }

    public bool Stopping => _stopping;

    /// <summary>Cancelled when the agent stops.</summary>
    public CancellationToken StopToken => _stopCts.Token;

    /// <summary>Raised (on the caller's thread) when a fact of the Network Status may have changed.</summary>
    public Action StatusMayHaveChanged { get; set; } = static () => { };

    public DateTimeOffset NextPolicyRefresh
    {
        get { lock (_gate) { return _nextPolicyRefresh; } }
        set { lock (_gate) { _nextPolicyRefresh = value; } }
    }

    public TimeSpan PolicyRefreshInterval =>
        Options.PolicyRefreshOverride ?? TimeSpan.FromSeconds(Math.Max(1, (_policy?.Settings ?? new AgentSettings()).PolicyRefreshSeconds));

    public TimeSpan TaskPollInterval =>
        Options.TaskPollOverride ?? TimeSpan.FromSeconds(Math.Max(1, (_policy?.Settings ?? new AgentSettings()).TaskPollSeconds));

    /// <summary>The TLS of the gateway's handler, once it made a connection.</summary>
    public TlsInfo? GatewayTls => Volatile.Read(ref _gatewayTransport)?.Tls;

    /// <summary>The two loops (NS, TS), which a policy and a route change reach.</summary>
    public void Attach(params ConnectionLoop[] loops) => _loops = loops;

    /// <summary>Wakes every loop.</summary>
    public void SignalAll()
    {
        foreach (var loop in _loops)
        {
            loop.Signal.Set();
        }
    }

    /// <summary>Every loop may try its channel again: a refusal waits only for the next policy.</summary>
    public void UnblockChannels()
    {
        foreach (var loop in _loops)
        {
            loop.State.BlockedUntilPolicy = false;
        }
    }

    public async Task BeginStopAsync()
    {
        _stopping = true;
        lock (_gate)
        {
            _probeTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        ResetProxyReturn(stop: true);
        await _stopCts.CancelAsync().ConfigureAwait(false);
        SignalAll();
    }

    public void MarkStopping() => _stopping = true;

    /// <summary>Runs work beside the loops (a task, a policy request in the background); awaited when the agent stops.</summary>
    public void StartBackground(Func<CancellationToken, Task> work)
    {
        var task = BackgroundWork.RunAsync(work, _stopCts.Token);
        _background.TryAdd(task, 0);
        _ = task.ContinueWith(
            static (t, state) => ((AgentContext)state!)._background.TryRemove(t, out _),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public Task WhenBackgroundDoneAsync(CancellationToken ct) => Task.WhenAll(_background.Keys).WaitAsync(ct);

    /// <remarks>why a pooled <see cref="ValueTask"/>: a task saves three times (its push, its result, the result's acknowledgement), each awaited once.</remarks>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SaveStateAsync(CancellationToken ct)
    {
        if (_identity is null)
        {
            return;
        }

        await _saveGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Snapshot inside the gate: a later save always writes the newer state.
            var snapshot = _book.WriteTo(_identity, _policy);
            await _store.SaveAsync(snapshot, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.SaveFailed(Logger, ex);
        }
        finally
        {
            _saveGate.Release();
        }
    }

    /// <summary>
    /// Applies a policy from a push or a request: every loop may try its channel again (a refusal waits for the next policy), and a
    /// loop whose channel the policy no longer allows closes it (<see cref="ConnectionLoop.ApplyPolicyAsync"/>). A changed routing input
    /// re-evaluates the route without a restart.
    /// </summary>
    public async Task ApplyPolicyAsync(PolicyDocument policy, string source, CancellationToken ct)
    {
        var previous = _policy;
        _policy = policy;
        if (RoutingInputsChanged(previous, policy))
        {
            // Applied without a restart: both connections move if the decision changes.
            Routes.Request($"policy {policy.Etag} from {source}");
            StartBackground(ReevaluateInBackgroundAsync);
        }

        if (previous is not null && previous.Communication.Proxy != policy.Communication.Proxy)
        {
            // Connections opened under the old proxy settings would keep them: both move now, on handlers built anew.
            Log.ProxyChanged(Logger, policy.Communication.Proxy?.Mode ?? ProxyMode.None);
            ResetProxyReturn(stop: false);
            await ReopenConnectionsAsync(ct).ConfigureAwait(false);
        }

        if (previous?.Etag != policy.Etag)
        {
            Log.PolicyApplied(Logger, policy.Etag, source, policy.TcmEnabled, policy.Communication.PersistentConnection, policy.Communication.ProfileName);
        }

        foreach (var loop in _loops)
        {
            await loop.ApplyPolicyAsync(policy, ct).ConfigureAwait(false);
        }

        await SaveStateAsync(ct).ConfigureAwait(false);
        SignalAll();
    }

    /// <summary>Re-evaluates now, even while both loops are busy in their channels (a policy push, an adapter change).</summary>
    public async Task ReevaluateInBackgroundAsync(CancellationToken ct)
    {
        try
        {
            await Routes.EnsureCurrentAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// After an evaluation: on a fallback route, the preferred route is probed again after the next back-off delay (so a fleet that lost
    /// its server does not probe it all at once, and returns when it answers); on the preferred route, the probing stops. Runs inside
    /// the evaluation, so it never races another one.
    /// </summary>
    private void ScheduleProbeOfPreferredRoute(bool fallback)
    {
        lock (_gate)
        {
            if (!fallback || _stopping)
            {
                // Back on the preferred route: nothing to probe, and no timer kept (thousands of simulated agents hold none).
                _probeBackoff?.Reset();
                _probeTimer?.Dispose();
                _probeTimer = null;
                return;
            }

            _probeBackoff ??= new Backoff(Options.Backoff);
            var delay = _probeBackoff.Next();
            _probeTimer ??= Time.CreateTimer(static state => ((AgentContext)state!).ProbePreferredRoute(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _probeTimer.Change(delay, Timeout.InfiniteTimeSpan);
            Log.ProbeScheduled(Logger, DelayText.Format(delay), _probeBackoff.Attempt);
        }
    }

    /// <summary>A connection went directly because the proxy failed (the profile allows it): the agent asks the proxy again later.</summary>
    private void WentDirect(string destination)
    {
        ProxyReturn proxyReturn;
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            proxyReturn = _proxyReturn ??= new ProxyReturn(Proxied, Time, Options.Backoff, Options.ProbeTimeout, Logger, StartBackground, ReopenConnectionsAsync);
        }

        proxyReturn.WentDirect(destination);
    }

    /// <summary>The proxy settings changed, or the agent stops: no direct connection to bring back through the proxy.</summary>
    private void ResetProxyReturn(bool stop) => Volatile.Read(ref _proxyReturn)?.Reset(stop);

    private void ProbePreferredRoute()
    {
        if (_stopping || _identity is null)
        {
            return;
        }

        Routes.Request("probing the preferred route: is the Notification Server reachable directly again?");
        StartBackground(ReevaluateInBackgroundAsync);
    }

    /// <summary>
    /// The one handler to the gateway (HTTP/2 preferred, so one TCP connection carries the NS and the TS channel and the HTTP requests):
    /// the agent's client certificate, the gateway's certificate validated against the CEM settings' CA, else the NS CA.
    /// </summary>
    public AgentTransport GatewayTransport(RoutePlan plan)
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
        var created = new AgentTransport(Network, trust, certificate, Counters, Options.HttpVersion, Options.RequestTimeout, TrafficPurpose.Management);
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

    /// <summary>A new identity is a new client certificate: every handler is released and built again when next needed.</summary>
    public void ResetTransports()
    {
        foreach (var loop in _loops)
        {
            loop.ResetTransport();
        }

        AgentTransport? old;
        lock (_gate)
        {
            _gatewayKey = null;
            old = _gatewayTransport;
            _gatewayTransport = null;
        }

        old?.Dispose();
    }

    public void Dispose()
    {
        AgentTransport? gateway;
        lock (_gate)
        {
            gateway = _gatewayTransport;
            _gatewayTransport = null;
            _probeTimer?.Dispose();
            _probeTimer = null;
        }

        gateway?.Dispose();
        Pings.Dispose();
        ResetProxyReturn(stop: true);
        _stopCts.Dispose();
    }

    /// <summary>Whether a failure is the network's (or the server's silence), which the loops survive, rather than a bug.</summary>
    public static bool IsNetworkFailure(Exception ex, CancellationToken ct) =>
        ex is HttpRequestException or TimeoutException or IOException or SocketException or AuthenticationException or WebSocketException
            or AgentChannelClosedException or ObjectDisposedException
        || (ex is OperationCanceledException && !ct.IsCancellationRequested);

    /// <summary>
    /// A changed decision moves BOTH persistent connections at once: each open channel is closed (normal closure, "route changed")
    /// and reconnects at once, without back-off, on the route of the new plan; HTTP requests follow the new plan from now on.
    /// </summary>
    private async Task MoveConnectionsAsync(RoutePlan previous, RoutePlan plan, CancellationToken ct)
    {
        Log.MovingConnections(Logger, previous.EffectiveMode, plan.EffectiveMode, plan.Gateway ?? "-");
        foreach (var loop in _loops)
        {
            await loop.MoveToRouteAsync(plan, ct).ConfigureAwait(false);
        }

        SignalAll();
    }

    /// <summary>Closes both channels and releases every handler: each connection opens again at once, under the proxy settings in force now.</summary>
    private async Task ReopenConnectionsAsync(CancellationToken ct)
    {
        // The handlers go first: a loop reconnects the moment its channel closes, and on the old handler it would reuse a pooled
        // connection opened under the old settings (directly, while the proxy was down) instead of dialling anew.
        ResetTransports();
        await MoveConnectionsAsync(Routes.Plan, Routes.Plan, ct).ConfigureAwait(false);
    }

    /// <summary>The proxy settings in force: the policy's once there is one (null: none), else the install package's.</summary>
    private static ProxySettings? ProxyOf(InstallPackage package, PolicyDocument? policy) =>
        policy is not null ? policy.Communication.Proxy : package.Proxy;

    /// <summary>Whether <paramref name="current"/> changes an input of the routing decision that <paramref name="previous"/> had.</summary>
    private static bool RoutingInputsChanged(PolicyDocument? previous, PolicyDocument current) =>
        previous is null
        || previous.Settings.PreferCem != current.Settings.PreferCem
        || previous.Settings.PreferCemIfVpn != current.Settings.PreferCemIfVpn
        || !previous.Settings.VpnAdapters.SequenceEqual(current.Settings.VpnAdapters, StringComparer.OrdinalIgnoreCase)
        || previous.Communication.Cem != current.Communication.Cem
        || !previous.Communication.ServerHosts.SequenceEqual(current.Communication.ServerHosts, StringComparer.OrdinalIgnoreCase);

    private static partial class Log
    {
        [LoggerMessage(1040, LogLevel.Information, "Policy {Etag} applied from {Source}: TCM communication enabled {TcmEnabled}, persistent connection enabled {Persistent}, profile '{Profile}'", EventName = "PolicyApplied")]
        public static partial void PolicyApplied(ILogger logger, string etag, string source, bool tcmEnabled, bool persistent, string? profile);

        [LoggerMessage(1060, LogLevel.Error, "Saving the agent state failed; it is saved again at the next change", EventName = "SaveFailed")]
        public static partial void SaveFailed(ILogger logger, Exception exception);

        [LoggerMessage(1088, LogLevel.Debug, "On a fallback route: probing the preferred route again in {Delay} (probe {Probe})", EventName = "ProbeScheduled")]
        public static partial void ProbeScheduled(ILogger logger, string delay, int probe);

        [LoggerMessage(1151, LogLevel.Information, "Proxy settings changed (now {Mode}): both connections open again", EventName = "ProxyChanged")]
        public static partial void ProxyChanged(ILogger logger, ProxyMode mode);

        [LoggerMessage(1084, LogLevel.Information, "Moving both persistent connections from {Previous} to {Mode} (gateway {Gateway})", EventName = "MovingConnections")]
        public static partial void MovingConnections(ILogger logger, ConnectionMode previous, ConnectionMode mode, string gateway);
    }
}
