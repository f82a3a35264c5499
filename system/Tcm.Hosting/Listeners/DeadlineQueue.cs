namespace Tcm.Hosting.Listeners;

/// <summary>
/// Entries that may each stay equally long, in the order they came, with one timer for all of them: armed for the oldest, which
/// is the first to expire. Not thread-safe: its owner calls it under its own lock, and its timer callback takes the expired
/// entries (<see cref="TakeExpired"/>) under that lock too.
/// </summary>
internal sealed class DeadlineQueue<T> : IDisposable
{
    private readonly LinkedList<Due> _entries = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _limit;
    private readonly ITimer _timer;

    /// <summary>Entries that may stay <paramref name="limit"/>; <paramref name="expire"/> runs (on the timer) once the oldest's time is up.</summary>
    public DeadlineQueue(TimeSpan limit, TimeProvider time, Action expire)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(expire);
        _limit = limit;
        _time = time;
        _timer = time.CreateTimer(static state => ((Action)state!)(), expire, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Entries in the queue.</summary>
    public int Count => _entries.Count;

    /// <summary>Adds <paramref name="item"/> as the newest; the node takes it out again (<see cref="Remove"/>).</summary>
    public LinkedListNode<Due> Add(T item)
    {
        var node = _entries.AddLast(new Due(item, _time.GetTimestamp() + (long)(_limit.TotalSeconds * _time.TimestampFrequency)));
        if (_entries.Count == 1)
        {
            _timer.Change(_limit, Timeout.InfiniteTimeSpan);
        }

        return node;
    }

    /// <summary>Takes the oldest entry out, if there is one.</summary>
    public bool TryTakeOldest(out T item)
    {
        if (_entries.First is not { } first)
        {
            item = default!;
            return false;
        }

        item = first.Value.Item;
        Remove(first);
        return true;
    }

    /// <summary>Takes <paramref name="node"/> out; false when it was no longer in the queue (taken or expired before).</summary>
    public bool Remove(LinkedListNode<Due>? node)
    {
        if (node?.List != _entries)
        {
            return false;
        }

        var wasFirst = _entries.First == node;
        _entries.Remove(node);
        if (wasFirst)
        {
            ArmForOldest();
        }

        return true;
    }

    /// <summary>Takes every entry whose time is up, oldest first, into <paramref name="expired"/>; re-arms the timer for the rest.</summary>
    public void TakeExpired(List<T> expired)
    {
        var now = _time.GetTimestamp();
        while (_entries.First is { } first && first.Value.Deadline <= now)
        {
            expired.Add(first.Value.Item);
            _entries.RemoveFirst();
        }

        // Also after a timer that fired a little early: wait for the oldest's deadline again.
        ArmForOldest();
    }

    /// <inheritdoc/>
    public void Dispose() => _timer.Dispose();

    private void ArmForOldest()
    {
        if (_entries.First is { } first)
        {
            var due = _time.GetElapsedTime(_time.GetTimestamp(), first.Value.Deadline);
            _timer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>An entry and when its time is up (a <see cref="TimeProvider"/> timestamp).</summary>
    internal readonly record struct Due(T Item, long Deadline);
}
