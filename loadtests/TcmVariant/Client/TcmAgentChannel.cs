using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Agent;
using Tcm.Agent.State;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.LoadTests.TcmVariant.Client;

/// <summary>
/// One load-test agent's lasting parts: its saved state (identity after registration, as on a real machine's disk) and its
/// executor. A <see cref="TcmAgentChannel"/> is one run of the real agent over them.
/// </summary>
internal sealed class AgentSlot
{
    public AgentSlot(int index, TimeProvider time)
    {
        Index = index;
        Executor = new EchoExecutor(time);
    }

    /// <summary>The agent's number; negative for warm-up agents (outside the fleet, never targeted by a push).</summary>
    public int Index { get; }

    public InMemoryAgentStateStore Store { get; } = new();

    public EchoExecutor Executor { get; }

    /// <summary>Serialises runs of this agent (one machine runs one agent).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public bool IsRegistered => Store.Current is not null;

    /// <summary>The computer name the agent registers as.</summary>
    public string ComputerName => Index >= 0
        ? string.Create(CultureInfo.InvariantCulture, $"load-{Index:D6}")
        : string.Create(CultureInfo.InvariantCulture, $"load-warmup-{-Index}");
}

/// <summary>
/// The real <see cref="TcmAgent"/> (from its saved state, registering first when it has none) over <see cref="LoopbackNetwork"/>.
/// <see cref="StartAsync"/> returns once the agent's Network Status says <c>Persistent</c> (or, when asked not to wait, once it
/// runs); it fails when the agent falls back to HTTP instead (a refused or failed channel: one attempt, the test does the
/// back-off), except while a busy server asked it to come back later (<c>server-busy</c>): the agent's own retry is the product's. <see cref="Closed"/> completes when a persistent agent falls back. Disposing stops the agent cleanly.
/// </summary>
internal sealed class TcmAgentChannel : IAgentChannel
{
    private readonly AgentSlot _slot;
    private readonly TcmAgent _agent;
    private readonly bool _failOnFallback;
    private readonly ConnectionMode? _requiredMode;
    private readonly bool _requireTaskServer;
    private readonly Action<TcmAgentChannel> _onDisposed;
    private readonly TaskCompletionSource _persistent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _wasPersistent;
    private int _disposed;

    private TcmAgentChannel(AgentSlot slot, AgentOptions options, TimeProvider time, bool failOnFallback, ConnectionMode? requiredMode, bool requireTaskServer, Action<TcmAgentChannel> onDisposed)
    {
        _requireTaskServer = requireTaskServer;
        _slot = slot;
        _failOnFallback = failOnFallback;
        _requiredMode = requiredMode;
        _onDisposed = onDisposed;
        _agent = new TcmAgent(options, LoopbackNetwork.Instance, slot.Store, slot.Executor, time, NullLoggerFactory.Instance);
        _agent.StatusChanged += OnStatusChanged;
    }

    public int AgentIndex => _slot.Index;

    public Task Closed => _closed.Task;

    /// <summary>The running agent (its counters, its Network Status).</summary>
    public TcmAgent Agent => _agent;

    /// <summary>Whether the agent holds its persistent channel now (on the required route, when one is required).</summary>
    public bool IsPersistent => IsPersistentOnRoute(_agent.GetNetworkStatus());

    /// <summary>
    /// Starts agent <paramref name="slot"/>. With <paramref name="waitForPersistent"/>, returns when it is persistent and
    /// throws when it falls back to HTTP first or <paramref name="timeout"/> passes; otherwise returns once it runs
    /// (registered). <paramref name="onStarted"/> is called before the wait, <paramref name="onDisposed"/> at dispose. With
    /// <paramref name="requiredMode"/>, persistent means persistent on that route (<see cref="ConnectionMode.Cem"/>: through the
    /// gateway); a newly registered agent may first connect directly and move once its policy says to prefer CEM. With
    /// <paramref name="requireTaskServer"/>, its Client Task Agent's channel to the Task Server must be persistent too.
    /// </summary>
    public static async Task<TcmAgentChannel> StartAsync(
        AgentSlot slot,
        AgentOptions options,
        TimeProvider time,
        bool waitForPersistent,
        TimeSpan timeout,
        Action<TcmAgentChannel> onStarted,
        Action<TcmAgentChannel> onDisposed,
        CancellationToken cancellationToken,
        ConnectionMode? requiredMode = null,
        bool requireTaskServer = false)
    {
        await slot.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        TcmAgentChannel? channel = null;
        try
        {
            channel = new TcmAgentChannel(slot, options, time, waitForPersistent, requiredMode, requireTaskServer, onDisposed);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                await channel._agent.StartAsync(deadline.Token).ConfigureAwait(false);
                onStarted(channel);
                if (waitForPersistent)
                {
                    await channel._persistent.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var status = channel._agent.GetNetworkStatus();
                throw new TimeoutException($"agent {slot.ComputerName} was not {(waitForPersistent ? "persistent" : "registered")}{(requiredMode is { } mode && waitForPersistent ? $" through {mode}" : "")}{(requireTaskServer && waitForPersistent ? " on both connections" : "")} within {timeout.TotalSeconds:0} s: NS {status.Mode}, {status.TransportDetail}; Task Server {status.TaskServer?.Mode}, {status.TaskServer?.TransportDetail ?? "none"}");
            }

            return channel;
        }
        catch
        {
            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                slot.Gate.Release();
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _agent.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _agent.StatusChanged -= OnStatusChanged;
            _closed.TrySetResult();
            _persistent.TrySetException(new ObjectDisposedException(nameof(TcmAgentChannel)));
            _ = _persistent.Task.Exception;
            _onDisposed(this);
            _slot.Gate.Release();
        }
    }

    private void OnStatusChanged(object? sender, EventArgs e)
    {
        var status = _agent.GetNetworkStatus();
        if (IsPersistentOnRoute(status))
        {
            _wasPersistent = true;
            _persistent.TrySetResult();
        }
        else if (_wasPersistent)
        {
            _closed.TrySetResult();
        }
        else if (_failOnFallback && (_requiredMode is null || status.Mode == _requiredMode) && status.TransportDetail is { } detail && detail.StartsWith("HTTP (", StringComparison.Ordinal)
            && !detail.Contains(CloseReasons.ServerBusy, StringComparison.Ordinal))
        {
            _persistent.TrySetException(new InvalidOperationException($"agent {_slot.ComputerName} fell back to {detail}"));
        }
    }

    private bool IsPersistentOnRoute(NetworkStatus status) =>
        OnRoute(status) && (!_requireTaskServer || (status.TaskServer is { } ts && OnRoute(ts)));

    private bool OnRoute(NetworkStatus status) =>
        status.Transport == TransportKind.Persistent && (_requiredMode is null || status.Mode == _requiredMode);
}
