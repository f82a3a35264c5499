namespace Tcm.Gateway.Relay;

/// <summary>
/// The gateway relays what backends send to agents before what agents send back, for a bounded time: while backends' messages
/// to agents are being written (a fan-out's pushes), an agent's data frame waits before it goes on to its backend, until no
/// message to an agent was written for <see cref="Quiet"/>, or at most <see cref="MaxHold"/> after the first one waited.
/// <para>
/// why: in a fan-out through the gateway the first agents answer while the later ones' pushes are still on their way, and the
/// answers' work (relaying each result, the Task Server's store and forward, the NS's store) took the same two cores as the
/// pushes still to relay and the agents still to receive them: the profile and timeline of issue 15 (docs/benchmarks.md) found
/// the gateway's last push written about 215 ms after the action, and the agents' receipt of it about 100 ms later still.
/// Relaying the pushes first lets them reach the agents sooner; the answers follow when the fan-out's pushes are out, and the
/// same work is done. Only the order between tunnels changes: each tunnel's bytes keep theirs, nothing is dropped, and an
/// agent's bytes wait in its HTTP/2 stream (its flow-control window is the back-pressure), never longer than the bound.
/// </para>
/// </summary>
internal sealed class DeliveriesFirst
{
    /// <summary>How long no message to an agent must have been written before agents' messages go on.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(5);

    private readonly TimeProvider _time;
    private readonly long _quiet;
    private readonly long _maxHold;
    private readonly Lock _gate = new();
    private long _lastDelivery = long.MinValue / 2;
    private TaskCompletionSource? _released;
    private ITimer? _timer;
    private long _holdStarted;

    /// <summary>Holds agents' messages at most <paramref name="maxHold"/>; zero holds nothing.</summary>
    public DeliveriesFirst(TimeProvider time, TimeSpan maxHold)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHold, TimeSpan.Zero);
        _time = time;
        MaxHold = maxHold;
        _quiet = Ticks(Quiet);
        _maxHold = Ticks(maxHold);
    }

    /// <summary>The longest an agent's message waits for the messages to agents.</summary>
    public TimeSpan MaxHold { get; }

    /// <summary>A message from a backend to an agent is being written.</summary>
    public void Delivering()
    {
        if (_maxHold > 0)
        {
            Volatile.Write(ref _lastDelivery, _time.GetTimestamp());
        }
    }

    /// <summary>
    /// Completes when an agent's message may go on to its backend: at once when no message to an agent was written for
    /// <see cref="Quiet"/>, else when that happens or the hold reaches <see cref="MaxHold"/>. One timer serves every waiter.
    /// </summary>
    public Task WhenDeliveredAsync()
    {
        if (_maxHold == 0 || _time.GetTimestamp() - Volatile.Read(ref _lastDelivery) >= _quiet)
        {
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            if (_released is null)
            {
                _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _holdStarted = _time.GetTimestamp();
                _timer = _time.CreateTimer(static state => ((DeliveriesFirst)state!).Check(), this, Quiet, Quiet);
            }

            return _released.Task;
        }
    }

    private void Check()
    {
        TaskCompletionSource? released;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_released is null || (now - Volatile.Read(ref _lastDelivery) < _quiet && now - _holdStarted < _maxHold))
            {
                return;
            }

            released = _released;
            _released = null;
            _timer?.Dispose();
            _timer = null;
        }

        released.TrySetResult();
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
