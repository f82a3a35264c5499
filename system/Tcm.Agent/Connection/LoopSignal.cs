namespace Tcm.Agent.Connection;

/// <summary>
/// Wakes the agent's loop: at a deadline (one <see cref="ITimer"/> per loop, made at its first timed wait and re-armed per wait: a loop
/// that lives in its channel never makes one) or at once when something changed.
/// A wake that arrives while the loop is busy is remembered, so no change is missed. No thread is held while waiting.
/// </summary>
internal sealed class LoopSignal : IDisposable
{
    // ITimer's longest due time is about 49 days; longer waits simply wake and re-check.
    private static readonly TimeSpan _maxWait = TimeSpan.FromDays(30);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private ITimer? _timer;
    private TaskCompletionSource? _waiter;
    private bool _set;
    private bool _disposed;

    public LoopSignal(TimeProvider time) => _time = time;

    /// <summary>Wakes the waiter now, or the next wait if nobody waits.</summary>
    public void Set()
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            _set = true;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>Returns after <paramref name="timeout"/>, or earlier when <see cref="Set"/> is called.</summary>
    public async ValueTask WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        Task task;
        lock (_gate)
        {
            if (_set || timeout <= TimeSpan.Zero)
            {
                _set = false;
                return;
            }

            _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            task = _waiter.Task;
        }

        Timer()?.Change(timeout < _maxWait ? timeout : _maxWait, Timeout.InfiniteTimeSpan);
        try
        {
            await task.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            lock (_gate)
            {
                _set = false;
                _waiter = null;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }

    /// <summary>The timer, made at the first timed wait; null once disposed.</summary>
    private ITimer? Timer()
    {
        lock (_gate)
        {
            return _disposed ? null : _timer ??= _time.CreateTimer(static state => ((LoopSignal)state!).Set(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }
}
