namespace Tcm.Channels.Delivery;

/// <summary>
/// One session's results handed to the store and not yet committed: the session reads its agent's next message while they commit,
/// up to <c>max</c> at once; at the bound the read loop waits for one to finish, so an agent that sends faster than the store commits
/// meets back-pressure (its socket is not read), not a growing queue. Only the read loop adds and waits, one call at a time; the
/// stores finish on any thread.
/// </summary>
internal sealed class ResultsInFlight(int max)
{
    private readonly Lock _lock = new();
    private int _count;
    private int _waitBelow;
    private TaskCompletionSource? _waiter;

    /// <summary>Results handed to the store and not finished.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Whether the read loop waits: for room at the bound, or for every result before the channel's end.</summary>
    public bool IsWaiting
    {
        get
        {
            lock (_lock)
            {
                return _waiter is not null;
            }
        }
    }

    /// <summary>One result more in flight; the task completes when the read loop may read on (at once below the bound).</summary>
    public Task AddAsync()
    {
        lock (_lock)
        {
            _count++;
            return WaitBelow(max);
        }
    }

    /// <summary>Completes when no result is in flight.</summary>
    public Task WhenNoneAsync()
    {
        lock (_lock)
        {
            return WaitBelow(1);
        }
    }

    /// <summary>A result's store finished (its acknowledgement or error already queued).</summary>
    public void Remove()
    {
        TaskCompletionSource? release = null;
        lock (_lock)
        {
            _count--;
            if (_waiter is { } waiter && _count < _waitBelow)
            {
                release = waiter;
                _waiter = null;
            }
        }

        release?.TrySetResult();
    }

    // why: called under _lock; one waiter at most, the read loop.
    private Task WaitBelow(int limit)
    {
        if (_count < limit)
        {
            return Task.CompletedTask;
        }

        _waitBelow = limit;
        _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _waiter.Task;
    }
}
