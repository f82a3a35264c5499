using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Connection;
using Tcm.Agent.Delivery;
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
/// The agent: the core agent's connection to its Notification Server and the Client Task Agent's to a Task Server, each one
/// <see cref="ConnectionLoop"/> (persistent channel when the policy allows, HTTP polling otherwise and while it reconnects) over
/// its role; pushed tasks run once each and every result is delivered until acknowledged. No thread and no receive buffer is
/// held while idle.
/// </summary>
public sealed partial class TcmAgent : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly INetwork _network;
    private readonly IAgentStateStore _store;
    private readonly ILogger _logger;
    private readonly AgentContext _agent;
    private readonly ConnectionLoop _ns;
    private readonly ConnectionLoop _ts;
    private readonly NotificationServerRole _nsRole;
    private readonly AgentRegistration _registration;
    private readonly Lock _gate = new();
    private Task? _nsLoop;
    private Task? _tsLoop;
    private int _lifecycle; // 0 new, 1 started, 2 stopped

    // The Network Status last raised as StatusChanged, under _gate.
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
        _logger = loggers.CreateLogger<TcmAgent>();
        _agent = new AgentContext(options, network, store, time, _logger, Counters) { StatusMayHaveChanged = RaiseStatusChangedIfNeeded };
        var delivery = new AgentDelivery(_agent, executor);
        NotificationServerRole? nsRole = null;
        // One delegate for the three that ask for the Network Status.
        Func<NetworkStatus> status = GetNetworkStatus;
        _ns = new ConnectionLoop(_agent, Counters, delivery, status,
            loop => nsRole = new NotificationServerRole(_agent, loop, delivery, ct => _registration!.RegisterWithRetryAsync(ct), status));
        _nsRole = nsRole!;
        _ts = new ConnectionLoop(_agent, new AgentCounters(), delivery, status, loop => new TaskServerRole(_agent, loop, delivery));
        _agent.Attach(_ns, _ts);
        _registration = new AgentRegistration(_agent, _ns, _nsRole);
        _lastRaised = (ConnectionMode.Offline, TransportKind.Http, null, null, null, null);
    }

    /// <summary>The id the server issued at registration; null before the agent has registered.</summary>
    public string? AgentId => _agent.Identity?.AgentId;

    /// <summary>The policy in force; null before the agent has one.</summary>
    public PolicyDocument? Policy => _agent.Policy;

    /// <summary>Results the agent holds until the server acknowledges them (kept across dropped connections).</summary>
    public int PendingResults => _agent.Book.PendingResultCount;

    /// <summary>What the agent has done on the wire: the Notification Server connection's requests, messages and bytes, and what both connections share (pushes, results).</summary>
    public AgentCounters Counters { get; } = new();

    /// <summary>What the Client Task Agent's Task Server connection has done on the wire: its HTTP requests, channel messages and bytes.</summary>
    public AgentCounters TaskServerCounters => _ts.Counters;

    /// <summary>
    /// Raised when the Network Status' mode, transport or transport detail changes (connected, fell back to HTTP, went offline).
    /// Raised on the agent's loop: handlers must be quick and must not block.
    /// </summary>
    public event EventHandler? StatusChanged;

    /// <summary>The routing decision both connections follow now (for tests and the simulator).</summary>
    internal RoutePlan RoutePlan => _agent.Routes.Plan;

    /// <summary>The routes the NS and the TS connection use now (null before they have one).</summary>
    internal (AgentRoute? NotificationServer, AgentRoute? TaskServer) PlannedRoutes => (_ns.State.Route, _ts.State.Route);

    /// <summary>
    /// Loads the saved state, registers with the install package when there is none (retrying with back-off until
    /// <paramref name="ct"/> is cancelled), and starts both connection loops. Returns once started, not once connected.
    /// </summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (Interlocked.CompareExchange(ref _lifecycle, 1, 0) != 0)
        {
            throw new InvalidOperationException("the agent was already started");
        }

        var state = await _store.LoadAsync(ct).ConfigureAwait(false);
        var now = _agent.Time.GetUtcNow();
        // Fix #1 of the support article: adapter detection completes before the first connection attempt. Changes from here on
        // request a re-evaluation, which every connection attempt awaits.
        _network.AdaptersChanged += OnAdaptersChanged;
        _agent.Routes.Request("agent start");
        if (state is not null)
        {
            _agent.Identity = state;
            _agent.Book = new DeliveryBook(state);
            _agent.Policy = state.Policy;
            _agent.ResetTransports();
            // A restarted agent checks in at once.
            _agent.NextPolicyRefresh = now;
        }
        else
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _agent.StopToken);
            await _registration.RegisterWithRetryAsync(linked.Token).ConfigureAwait(false);
            // The registration answer carried the policy.
            _agent.NextPolicyRefresh = now + _agent.PolicyRefreshInterval;
        }

        _ns.State.NextTaskPoll = now;
        _ts.State.NextTaskPoll = now;
        await _agent.Routes.EnsureCurrentAsync(ct).ConfigureAwait(false);
        var route = _nsRole.UpdateRoute();
        Log.Started(_logger, _options.ComputerName, AgentId!, route.HostAndPort);
        var stop = _agent.StopToken;
        // One delay for both connections, so over HTTP/2 they still share one TLS connection.
        var jitter = _options.StartJitter * Random.Shared.NextDouble();
        _nsLoop = Task.Run(() => _ns.RunAsync(jitter, stop), CancellationToken.None);
        _tsLoop = Task.Run(() => _ts.RunAsync(jitter, stop), CancellationToken.None);
    }

    /// <summary>Closes the channels cleanly (normal closure), stops the loops and running tasks, and saves the state.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        if (Interlocked.CompareExchange(ref _lifecycle, 2, 1) != 1)
        {
            return;
        }

        _agent.MarkStopping();
        _network.AdaptersChanged -= OnAdaptersChanged;
        foreach (var (connection, loop) in new[] { (_ns, _nsLoop), (_ts, _tsLoop) })
        {
            if (connection.State.Channel is { } channel)
            {
                await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "agent stopping", ct).ConfigureAwait(false);
                try
                {
                    // The server answers the close; the loop then ends by itself instead of aborting the socket.
                    await (loop ?? Task.CompletedTask).WaitAsync(TimeSpan.FromSeconds(5), _agent.Time, ct).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
        }

        await _agent.BeginStopAsync().ConfigureAwait(false);
        try
        {
            // No loop yet when the agent is stopped while it is still registering: cancelling the stop token ends that.
            await (_nsLoop ?? Task.CompletedTask).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await (_tsLoop ?? Task.CompletedTask).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _agent.WhenBackgroundDoneAsync(CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            _ns.State.Stopped();
            _ts.State.Stopped();
            RaiseStatusChangedIfNeeded();
            await _agent.SaveStateAsync(CancellationToken.None).ConfigureAwait(false);
            Log.Stopped(_logger, AgentId);
        }
    }

    /// <summary>The agent's Network Status panel, now, with the Client Task Agent's Task Server connection once it has one. Cheap: no I/O.</summary>
    public NetworkStatus GetNetworkStatus()
    {
        var status = NetworkStatusMapper.Map(_ns.Facts()) with
        {
            PeerDownloading = NetworkStatusMapper.PeerDownloadingDisabled,
            NetworkUsage = NetworkStatusMapper.NetworkUsageUnrestricted,
        };
        return _ts.State.Route is not null ? status with { TaskServer = NetworkStatusMapper.Map(_ts.Facts()) } : status;
    }

    /// <summary>
    /// The Network Status panel's "Terminate persistent connection": closes the channel and works over HTTP for
    /// <paramref name="reconnectAfter"/> (default 60 seconds), then tries the channel again.
    /// </summary>
    public async Task TerminatePersistentConnectionAsync(TimeSpan? reconnectAfter = null, CancellationToken ct = default)
    {
        var delay = reconnectAfter ?? ConnectionLoop.DefaultTerminateDelay;
        var channel = _ns.State.Channel;
        _ns.State.Terminate(_agent.Time.GetUtcNow() + delay,
            $"terminated: the persistent connection was terminated on the agent; reconnecting after {DelayText.Format(delay)}", closesChannel: channel is not null);
        Log.Terminated(_logger, _ns.State.Route?.HostAndPort, "terminated on the agent", DelayText.Format(delay));
        if (channel is not null)
        {
            await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "terminated: persistent connection terminated on the agent", ct).ConfigureAwait(false);
        }

        RaiseStatusChangedIfNeeded();
        _ns.Signal.Set();
    }

    /// <summary>Requests the policy now (over the channel when connected, else HTTP) and applies it when it changed.</summary>
    public async Task RequestPolicyNowAsync(CancellationToken ct = default)
    {
        if (_agent.Identity is null)
        {
            throw new InvalidOperationException("the agent is not registered yet");
        }

        await _nsRole.RefreshPolicyAsync(ct).ConfigureAwait(false);
        _agent.NextPolicyRefresh = _agent.Time.GetUtcNow() + _agent.PolicyRefreshInterval;
    }

    /// <summary>Stops the agent (see <see cref="StopAsync"/>) and releases its handlers and timers.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        Interlocked.Exchange(ref _lifecycle, 2);
        _ns.Dispose();
        _ts.Dispose();
        _agent.Dispose();
    }

    private void OnAdaptersChanged(object? sender, EventArgs e)
    {
        _agent.Routes.Request("network adapters changed");
        if (!_agent.Stopping && _agent.Identity is not null)
        {
            // Before registration the registration loop re-evaluates at its next attempt.
            _agent.StartBackground(_agent.ReevaluateInBackgroundAsync);
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

    private static partial class Log
    {
        [LoggerMessage(1000, LogLevel.Information, "Agent '{ComputerName}' started as agent {AgentId}; Notification Server '{Server}'", EventName = "Started")]
        public static partial void Started(ILogger logger, string computerName, string agentId, string server);

        [LoggerMessage(1001, LogLevel.Information, "Agent {AgentId} stopped", EventName = "Stopped")]
        public static partial void Stopped(ILogger logger, string? agentId);

        [LoggerMessage(1029, LogLevel.Information, "Persistent connection to '{HostAndPort}' terminated ({Reason}); using HTTP, reconnecting after {Delay}", EventName = "Terminated")]
        public static partial void Terminated(ILogger logger, string? hostAndPort, string reason, string delay);

        [LoggerMessage(1062, LogLevel.Error, "A StatusChanged handler threw", EventName = "StatusHandlerFailed")]
        public static partial void StatusHandlerFailed(ILogger logger, Exception exception);
    }
}
