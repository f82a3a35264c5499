using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Connection;
using Tcm.Agent.Network;
using Tcm.Agent.Registration;
using Tcm.Agent.Routing;
using Tcm.Agent.State;
using Tcm.Agent.Status;
using Tcm.Agent.Tasks;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent;

/// <summary>
/// The core agent: registers with its install package, keeps a persistent channel to its Notification Server when the policy allows
/// (HTTP polling otherwise, and while it reconnects), runs pushed tasks once each, and delivers every result until acknowledged.
/// One async loop per agent, driven by one timer; no thread and no receive buffer is held while idle.
/// </summary>
public sealed partial class TcmAgent : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTerminateDelay = TimeSpan.FromSeconds(60);

    private readonly AgentOptions _options;
    private readonly INetwork _network;
    private readonly IAgentStateStore _store;
    private readonly ITaskExecutor _executor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ServerConnection _ns;
    private readonly ServerConnection _ts;
    private readonly RouteKeeper _routes;
    private readonly SemaphoreSlim _saveGate = new(1, 1);
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly CancellationTokenSource _stopCts = new();

    private DeliveryBook _book = new();
    private volatile AgentState? _identity;
    private volatile PolicyDocument? _policy;
    private string? _previousAgentId;
    private Task? _loop;
    private Task? _taskLoop;
    private int _lifecycle; // 0 new, 1 started, 2 stopped
    private volatile bool _stopping;

    // Schedule: written by the loop, and by the API and message handlers under _gate (per-connection state is in _ns and _ts).
    private DateTimeOffset _nextPolicyRefresh;

    // Network Status facts, under _gate.
    private NetworkStatus? _lastPostedStatus;
    private (ConnectionMode Mode, TransportKind Transport, string? Detail, ConnectionMode? TsMode, TransportKind? TsTransport, string? TsDetail) _lastRaised;

    /// <summary>Creates an agent; nothing happens until <see cref="StartAsync"/>.</summary>
    /// <param name="options">What the agent is and how it behaves.</param>
    /// <param name="network">Every socket the agent opens comes from here (<see cref="OsNetwork"/>, or the simulator's).</param>
    /// <param name="store">Where identity, delivery bookkeeping and policy survive restarts.</param>
    /// <param name="executor">Runs pushed tasks and collects inventory.</param>
    /// <param name="time">The clock of every delay, timeout and timestamp.</param>
    /// <param name="loggers">Logging; the connection lines follow the product's wording.</param>
    public TcmAgent(AgentOptions options, INetwork network, IAgentStateStore store, ITaskExecutor executor, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Package);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ComputerName);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggers);
        _options = options;
        _network = network;
        _store = store;
        _executor = executor;
        _time = time;
        _logger = loggers.CreateLogger<TcmAgent>();
        _ns = new ServerConnection(ChannelRole.NotificationServer, TrafficPurpose.Management, options.Backoff, time) { Counters = Counters };
        _ts = new ServerConnection(ChannelRole.TaskServer, TrafficPurpose.TaskServer, options.Backoff, time);
        _lastRaised = (ConnectionMode.Offline, TransportKind.Http, null, null, null, null);
        _routes = new RouteKeeper(options.Package, network, time, options.ProbeTimeout, () => _policy, _logger) { RouteChanged = MoveConnectionsAsync };
    }

    /// <summary>The id the server issued at registration; null before the agent has registered.</summary>
    public string? AgentId => _identity?.AgentId;

    /// <summary>The policy in force; null before the agent has one.</summary>
    public PolicyDocument? Policy => _policy;

    /// <summary>Results the agent holds until the server acknowledges them (kept across dropped connections).</summary>
    public int PendingResults => _book.PendingResultCount;

    /// <summary>What the agent has done on the wire.</summary>
    public AgentCounters Counters { get; } = new();

    /// <summary>
    /// Raised when the Network Status' mode, transport or transport detail changes (connected, fell back to HTTP, went offline).
    /// Raised on the agent's loop: handlers must be quick and must not block.
    /// </summary>
    public event EventHandler? StatusChanged;

    /// <summary>
    /// Loads the saved state, registers with the install package when there is none (retrying with back-off until
    /// <paramref name="ct"/> is cancelled), and starts the connection loop. Returns once started, not once connected.
    /// </summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (Interlocked.CompareExchange(ref _lifecycle, 1, 0) != 0)
        {
            throw new InvalidOperationException("the agent was already started");
        }

        var state = await _store.LoadAsync(ct).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        // Fix #1 of the support article: adapter detection completes before the first connection attempt. Changes from here on
        // request a re-evaluation, which every connection attempt awaits.
        _network.AdaptersChanged += OnAdaptersChanged;
        _routes.Request("agent start");
        if (state is not null)
        {
            _identity = state;
            _book = new DeliveryBook(state);
            _policy = state.Policy;
            CreateTransport(state);
            // A restarted agent checks in at once.
            _nextPolicyRefresh = now;
        }
        else
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopCts.Token);
            await RegisterWithRetryAsync(linked.Token).ConfigureAwait(false);
            // The registration answer carried the policy.
            _nextPolicyRefresh = now + PolicyRefreshInterval;
        }

        _ns.NextTaskPoll = now;
        _ts.NextTaskPoll = now;
        await _routes.EnsureCurrentAsync(ct).ConfigureAwait(false);
        var route = UpdateRoute();
        Log.Started(_logger, _options.ComputerName, AgentId!, route.HostAndPort);
        var stop = _stopCts.Token;
        _loop = Task.Run(() => RunLoopAsync(stop), CancellationToken.None);
        _taskLoop = Task.Run(() => RunTaskAgentLoopAsync(stop), CancellationToken.None);
    }

    /// <summary>Closes the channel cleanly (normal closure), stops the loop and running tasks, and saves the state.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        if (Interlocked.CompareExchange(ref _lifecycle, 2, 1) != 1)
        {
            return;
        }

        _stopping = true;
        _network.AdaptersChanged -= OnAdaptersChanged;
        foreach (var (connection, loop) in new[] { (_ns, _loop), (_ts, _taskLoop) })
        {
            if (connection.Channel is { } channel)
            {
                await channel.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "agent stopping", ct).ConfigureAwait(false);
                try
                {
                    // The server answers the close; the loop then ends by itself instead of aborting the socket.
                    await (loop ?? Task.CompletedTask).WaitAsync(TimeSpan.FromSeconds(5), _time, ct).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
        }

        await _stopCts.CancelAsync().ConfigureAwait(false);
        _ns.Signal.Set();
        _ts.Signal.Set();
        try
        {
            // No loop yet when the agent is stopped while it is still registering: cancelling _stopCts ends that.
            await (_loop ?? Task.CompletedTask).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await (_taskLoop ?? Task.CompletedTask).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await Task.WhenAll(_background.Keys).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            lock (_gate)
            {
                foreach (var connection in new[] { _ns, _ts })
                {
                    connection.HttpReason = "stopped";
                    connection.ConnectedSince = null;
                    connection.Reachable = false;
                }
            }

            RaiseStatusChangedIfNeeded();
            await SaveStateAsync(CancellationToken.None).ConfigureAwait(false);
            Log.Stopped(_logger, AgentId);
        }
    }

    /// <summary>The agent's Network Status panel, now, with the Client Task Agent's Task Server connection once it has one. Cheap: no I/O.</summary>
    public NetworkStatus GetNetworkStatus()
    {
        var status = NetworkStatusMapper.Map(Facts(_ns));
        bool hasTaskServer;
        lock (_gate)
        {
            hasTaskServer = _ts.Route is not null;
        }

        return hasTaskServer ? status with { TaskServer = NetworkStatusMapper.Map(Facts(_ts)) } : status;
    }

    private ConnectionFacts Facts(ServerConnection connection)
    {
        AgentRoute? route;
        lock (_gate)
        {
            route = connection.Route;
        }

        var cem = route?.Mode == ConnectionMode.Cem;
        var tls = cem ? null : connection.Transport?.Tls;
        var gatewayTls = cem ? Volatile.Read(ref _gatewayTransport)?.Tls : null;
        lock (_gate)
        {
            return new ConnectionFacts
            {
                GatewayTlsProtocol = gatewayTls?.Protocol,
                GatewayCipherSuite = gatewayTls?.CipherSuite,
                ServerAddress = connection.Route?.HostAndPort,
                RouteMode = connection.Route?.Mode ?? ConnectionMode.Direct,
                RouteReason = connection.Route?.Reason,
                Reachable = connection.Reachable,
                Persistent = connection.Channel is not null && connection.ConnectedSince is not null,
                HttpReason = connection.HttpReason,
                TlsProtocol = tls?.Protocol,
                CipherSuite = tls?.CipherSuite,
                BytesSent = connection.Counters.BytesSent,
                BytesReceived = connection.Counters.BytesReceived,
                ConnectedSince = connection.ConnectedSince,
            };
        }
    }

    /// <summary>
    /// The Network Status panel's "Terminate persistent connection": closes the channel and works over HTTP for
    /// <paramref name="reconnectAfter"/> (default 60 seconds), then tries the channel again.
    /// </summary>
    public async Task TerminatePersistentConnectionAsync(TimeSpan? reconnectAfter = null, CancellationToken ct = default)
    {
        var delay = reconnectAfter ?? DefaultTerminateDelay;
        var channel = _ns.Channel;
        string? host;
        lock (_gate)
        {
            _ns.ChannelNotBefore = _time.GetUtcNow() + delay;
            _ns.TerminateRequested = channel is not null;
            _ns.HttpReason = $"terminated: the persistent connection was terminated on the agent; reconnecting after {Format(delay)}";
            host = _ns.Route?.HostAndPort;
        }

        Log.Terminated(_logger, host, "terminated on the agent", Format(delay));
        if (channel is not null)
        {
            await channel.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "terminated: persistent connection terminated on the agent", ct).ConfigureAwait(false);
        }

        RaiseStatusChangedIfNeeded();
        _ns.Signal.Set();
    }

    /// <summary>Requests the policy now (over the channel when connected, else HTTP) and applies it when it changed.</summary>
    public async Task RequestPolicyNowAsync(CancellationToken ct = default)
    {
        if (_identity is null)
        {
            throw new InvalidOperationException("the agent is not registered yet");
        }

        await RefreshPolicyAsync(ct).ConfigureAwait(false);
        lock (_gate)
        {
            _nextPolicyRefresh = _time.GetUtcNow() + PolicyRefreshInterval;
        }
    }

    /// <summary>Stops the agent (see <see cref="StopAsync"/>) and releases its handler and timer.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        Interlocked.Exchange(ref _lifecycle, 2);
        _ns.Dispose();
        _ts.Dispose();
        Interlocked.Exchange(ref _gatewayTransport, null)?.Dispose();
        _stopCts.Dispose();
    }

    private TimeSpan PolicyRefreshInterval =>
        _options.PolicyRefreshOverride ?? TimeSpan.FromSeconds(Math.Max(1, (_policy?.Settings ?? new AgentSettings()).PolicyRefreshSeconds));

    private TimeSpan TaskPollInterval =>
        _options.TaskPollOverride ?? TimeSpan.FromSeconds(Math.Max(1, (_policy?.Settings ?? new AgentSettings()).TaskPollSeconds));

    private async Task RegisterWithRetryAsync(CancellationToken ct)
    {
        var server = RouteResolver.ResolveRoute(_options.Package, null).HostAndPort;
        while (true)
        {
            var attempt = _ns.Backoff.Attempt + 1;
            // An agent that starts on the internet with CEM settings in its package registers through the gateway.
            var plan = await _routes.EnsureCurrentAsync(ct).ConfigureAwait(false);
            var route = RouteResolver.ResolveRoute(_options.Package, null, plan);
            var trust = route.Mode == ConnectionMode.Cem && !string.IsNullOrWhiteSpace(plan.Cem?.GatewayCaCertificatePem)
                ? plan.Cem.GatewayCaCertificatePem
                : _options.Package.CaCertificatePem;
            if (route.Mode == ConnectionMode.Cem)
            {
                Log.RegisteringViaGateway(_logger, _options.ComputerName, server, route.Gateway!, attempt);
            }
            else
            {
                Log.Registering(_logger, _options.ComputerName, server, attempt);
            }

            try
            {
                var identity = await Registrar.RegisterAsync(_options, _network, Counters, _time, _previousAgentId, route, trust, ct).ConfigureAwait(false);
                Counters.AddRegistration();
                // A new agent id starts a new push sequence and owns no earlier results.
                _book = new DeliveryBook();
                _identity = identity;
                _policy = identity.Policy;
                CreateTransport(identity);
                _ns.Backoff.Reset();
                await SaveStateAsync(ct).ConfigureAwait(false);
                Log.Registered(_logger, identity.AgentId, server);
                _routes.Request("policy received at registration");
                await _routes.EnsureCurrentAsync(ct).ConfigureAwait(false);
                UpdateRoute();
                // Reachable only once the route follows the policy's decision: the Network Status never shows the route the
                // registration took before the policy was known (e.g. "Available directly" over a VPN the policy prefers to avoid).
                lock (_gate)
                {
                    _ns.Reachable = true;
                    _ns.ChannelBlockedUntilPolicy = false;
                    _lastPostedStatus = null;
                }

                RaiseStatusChangedIfNeeded();
                return;
            }
            catch (Exception ex) when (ex is RegistrationRefusedException or AgentProtocolException || IsNetworkFailure(ex, ct))
            {
                lock (_gate)
                {
                    _ns.Reachable = ex is RegistrationRefusedException;
                }

                if (ex is not RegistrationRefusedException)
                {
                    _routes.Request("registration failed");
                }

                var delay = _ns.Backoff.Next();
                Log.RegistrationFailed(_logger, server, attempt, ex.Message, Format(delay));
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            }
        }
    }

    private void CreateTransport(AgentState identity)
    {
        foreach (var connection in new[] { _ns, _ts })
        {
            var certificate = AgentTransport.LoadClientCertificate(identity.ClientCertificatePem, identity.PrivateKeyPem);
            var transport = new AgentTransport(_network, identity.CaCertificatePem, certificate, connection.Counters, _options.HttpVersion, _options.RequestTimeout, connection.Purpose);
            Interlocked.Exchange(ref connection.Transport, transport)?.Dispose();
        }

        // A new identity is a new client certificate: the gateway's handler is built again when next needed.
        lock (_gate)
        {
            _gatewayKey = null;
        }

        Interlocked.Exchange(ref _gatewayTransport, null)?.Dispose();
    }

    private AgentRoute UpdateRoute()
    {
        var route = RouteResolver.ResolveRoute(_options.Package, _policy, _routes.Plan);
        lock (_gate)
        {
            _ns.Route = route;
        }

        return route;
    }

    private async Task SaveStateAsync(CancellationToken ct)
    {
        if (_identity is null)
        {
            return;
        }

        await _saveGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Snapshot inside the gate: a later save always writes the newer state.
            var snapshot = _book.WriteTo(_identity with { Policy = _policy });
            await _store.SaveAsync(snapshot, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.SaveFailed(_logger, ex);
        }
        finally
        {
            _saveGate.Release();
        }
    }

    private void RaiseStatusChangedIfNeeded()
    {
        var status = GetNetworkStatus();
        var now = (status.Mode, status.Transport, status.TransportDetail, status.TaskServer?.Mode, status.TaskServer?.Transport, status.TaskServer?.TransportDetail);
        lock (_gate)
        {
            if (now == _lastRaised)
            {
                return;
            }

            _lastRaised = now;
        }

        try
        {
            StatusChanged?.Invoke(this, EventArgs.Empty);
        }
        catch (Exception ex)
        {
            // A subscriber's bug must not stop the agent.
            Log.StatusHandlerFailed(_logger, ex);
        }
    }

    private void SetReachable(ServerConnection connection, bool reachable)
    {
        if (!reachable)
        {
            // A failed connection re-evaluates the route before the next attempt (it probes the server directly).
            _routes.Request($"a connection to the {connection.ServerKind} failed");
        }

        lock (_gate)
        {
            if (connection.Reachable == reachable)
            {
                return;
            }

            connection.Reachable = reachable;
        }

        RaiseStatusChangedIfNeeded();
    }

    private void StartBackground(Func<CancellationToken, Task> work)
    {
        var stop = _stopCts.Token;
        var task = Task.Run(() => work(stop), CancellationToken.None);
        _background.TryAdd(task, 0);
        _ = task.ContinueWith(
            static (t, state) => ((TcmAgent)state!)._background.TryRemove(t, out _),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static bool IsNetworkFailure(Exception ex, CancellationToken ct) =>
        ex is HttpRequestException or TimeoutException or IOException or SocketException or AuthenticationException or WebSocketException
            or AgentChannelClosedException or ObjectDisposedException
        || (ex is OperationCanceledException && !ct.IsCancellationRequested);

    internal static string Format(TimeSpan delay) =>
        delay < TimeSpan.FromSeconds(1) ? $"{delay.TotalMilliseconds:0} ms"
        : delay < TimeSpan.FromMinutes(2) ? $"{delay.TotalSeconds:0.#} s"
        : $"{delay.TotalMinutes:0.#} min";

    private static partial class Log
    {
        [LoggerMessage(1000, LogLevel.Information, "Agent '{ComputerName}' started as agent {AgentId}; Notification Server '{Server}'", EventName = "Started")]
        public static partial void Started(ILogger logger, string computerName, string agentId, string server);

        [LoggerMessage(1001, LogLevel.Information, "Agent {AgentId} stopped", EventName = "Stopped")]
        public static partial void Stopped(ILogger logger, string? agentId);

        [LoggerMessage(1010, LogLevel.Information, "Registering '{ComputerName}' with Notification Server '{Server}', attempt {Attempt}", EventName = "Registering")]
        public static partial void Registering(ILogger logger, string computerName, string server, int attempt);

        [LoggerMessage(1014, LogLevel.Information, "Registering '{ComputerName}' with Notification Server '{Server}' through CEM gateway '{Gateway}', attempt {Attempt}", EventName = "RegisteringViaGateway")]
        public static partial void RegisteringViaGateway(ILogger logger, string computerName, string server, string gateway, int attempt);

        [LoggerMessage(1011, LogLevel.Information, "Registered as agent {AgentId} with Notification Server '{Server}'", EventName = "Registered")]
        public static partial void Registered(ILogger logger, string agentId, string server);

        [LoggerMessage(1012, LogLevel.Warning, "Registration with Notification Server '{Server}' failed, attempt {Attempt}: {Reason}. Next attempt in {Delay}", EventName = "RegistrationFailed")]
        public static partial void RegistrationFailed(ILogger logger, string server, int attempt, string reason, string delay);

        [LoggerMessage(1060, LogLevel.Error, "Saving the agent state failed; it is saved again at the next change", EventName = "SaveFailed")]
        public static partial void SaveFailed(ILogger logger, Exception exception);

        [LoggerMessage(1062, LogLevel.Error, "A StatusChanged handler threw", EventName = "StatusHandlerFailed")]
        public static partial void StatusHandlerFailed(ILogger logger, Exception exception);
    }
}
