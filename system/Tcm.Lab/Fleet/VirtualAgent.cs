using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Tcm.Agent;
using Tcm.Agent.State;
using Tcm.Agent.Tasks;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using Tcm.Lab.Network;

namespace Tcm.Lab.Fleet;

/// <summary>One simulated endpoint: the real <see cref="TcmAgent"/> over its own <see cref="SimulatedNetwork"/>.</summary>
public sealed class VirtualAgent : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly TimeProvider _time;
    private readonly RecordingExecutor _executor;
    private TcmAgent? _agent;
    private int _running;
    private InMemoryAgentStateStore? _store;
    private CancellationTokenSource? _lifetime;
    private Task? _starting;
    private DateTimeOffset? _startedAt;
    private TimeSpan _ranBefore;
    private readonly Lock _countsGate = new();
    // Requests of the agent's earlier runs (each run is a new TcmAgent, whose counters start at zero); null before a stop.
    private Dictionary<string, long>? _earlierRequests;
    private bool _currentCounted;

    public VirtualAgent(AgentSpec spec, SimulatedNetwork network, AgentOptions options, ITaskExecutor executor, TimeProvider time, ILoggerFactory loggers)
    {
        Spec = spec;
        Network = network;
        _options = options;
        _time = time;
        _loggers = loggers;
        _executor = new RecordingExecutor(executor);
    }

    public AgentSpec Spec { get; }

    public SimulatedNetwork Network { get; }

    public bool IsRunning => Volatile.Read(ref _running) == 1;

    public string? AgentId => _agent?.AgentId;

    public TcmAgent? Agent => _agent;

    /// <summary>How many times each task id ran on this agent (exactly-once checks).</summary>
    public IReadOnlyDictionary<string, int> Executions => _executor.Executions;

    /// <summary>
    /// Adds the requests the agent made, by kind (<see cref="RequestCounts"/>), over all its runs to <paramref name="totals"/>: a
    /// restart of the service starts a new agent whose own counters start at zero, so the earlier runs' are kept here.
    /// </summary>
    public void AddRequestsTo(IDictionary<string, long> totals)
    {
        lock (_countsGate)
        {
            if (_earlierRequests is { } earlier)
            {
                RequestCounts.AddTo(totals, earlier);
            }

            if (!_currentCounted && _agent is { } agent)
            {
                RequestCounts.AddTo(totals, agent);
            }
        }
    }

    /// <summary>How long the agent has run in all, for agent-hours.</summary>
    public TimeSpan RunningTime(DateTimeOffset now) => _startedAt is { } s ? now - s + _ranBefore : _ranBefore;

    /// <summary>
    /// Starts the agent and returns at once: registration and connection go on in the background, as on a real machine
    /// that boots without a route to its server (it keeps retrying with back-off until it has one, or until stopped).
    /// </summary>
    public Task StartAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            return Task.CompletedTask;
        }

        // The agent keeps its identity across stop/start, as a real machine keeps its agent state on disk.
        _store ??= new InMemoryAgentStateStore();
        _lifetime = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var agent = new TcmAgent(_options, Network, _store, _executor, _time, _loggers);
        lock (_countsGate)
        {
            _agent = agent;
            _currentCounted = false;
        }

        _startedAt = _time.GetUtcNow();
        var starting = _agent.StartAsync(_lifetime.Token);
        _starting = starting;
        // why: a finished start is not kept (its task holds the whole start's state: 200 bytes an agent, for thousands of agents).
        _ = starting.ContinueWith(
            static (done, state) => Interlocked.CompareExchange(ref ((VirtualAgent)state!)._starting, null, done),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _running, 0) == 0 || _agent is not { } agent)
        {
            return;
        }

        try
        {
            await (_lifetime?.CancelAsync() ?? Task.CompletedTask);
            if (_starting is { } starting)
            {
                await starting.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            await agent.StopAsync(ct);
        }
        finally
        {
            await agent.DisposeAsync();
            lock (_countsGate)
            {
                RequestCounts.AddTo(_earlierRequests ??= new Dictionary<string, long>(StringComparer.Ordinal), agent);
                _currentCounted = true;
            }

            _lifetime?.Dispose();
            _lifetime = null;
            var now = _time.GetUtcNow();
            _ranBefore += now - (_startedAt ?? now);
            _startedAt = null;
        }
    }

    /// <summary>The agent's NS connection state as the Network Status panel shows it; offline when not running.</summary>
    public (ConnectionMode Mode, TransportKind Transport, bool Running) State()
    {
        if (!IsRunning || _agent is not { } agent)
        {
            return (ConnectionMode.Offline, TransportKind.Http, false);
        }

        var status = agent.GetNetworkStatus();
        return (status.Mode, status.Transport, true);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5), _time);
        try
        {
            await StopAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Counts executions per task id around the simulated executor: a duplicate run is measured, not assumed away.</summary>
    private sealed class RecordingExecutor(ITaskExecutor inner) : ITaskExecutor
    {
        // A handful of tasks per agent in a run: sized for that, not for the default 31 buckets and a lock per core.
        private readonly ConcurrentDictionary<string, int> _executions = new(concurrencyLevel: 1, capacity: 2, StringComparer.Ordinal);

        public IReadOnlyDictionary<string, int> Executions => _executions;

        public ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken)
        {
            _executions.AddOrUpdate(task.TaskId, 1, (_, n) => n + 1);
            return inner.ExecuteAsync(task, cancellationToken);
        }

        public ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken) =>
            inner.CollectInventoryAsync(classes, cancellationToken);
    }
}
