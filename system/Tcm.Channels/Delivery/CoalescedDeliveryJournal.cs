namespace Tcm.Channels.Delivery;

/// <summary>
/// Delivery progress nobody waits for, written coalesced: acknowledgements and <c>running</c> statuses. An acknowledgement only
/// spares a re-send (the agent's sequence is already raised in memory, <see cref="PushSequence.RaiseAckedSeq"/>) and a status only
/// shows progress, so neither needs a store write of its own. The Notification Server and the Task Server each say what the writes
/// look like in their store.
/// <para>
/// They are kept here and written by one posted write that takes everything pending when the store's single writer reaches it, so
/// under load one transaction carries many agents' progress. A result takes its agent's pending acknowledgements into its own write
/// (<see cref="TakeInto"/>: they commit together, before the result's final state) and drops its target's pending status, which the
/// final state supersedes: the status travels with the result when the result follows at once.
/// </para>
/// <para>
/// A write that takes from the journal keeps what it took (a <see cref="JournalTake"/>): a store that runs a transaction again after a
/// conflict with another writer runs its writes again, and what the first run took is no longer in the journal.
/// </para>
/// </summary>
/// <typeparam name="TContext">The store's write context, passed to the writes.</typeparam>
/// <typeparam name="TStatus">A pending status, as the store writes it.</typeparam>
public abstract class CoalescedDeliveryJournal<TContext, TStatus>
{
    private readonly Lock _lock = new();
    private readonly Action<Action<TContext>, string> _post;
    private Dictionary<string, List<PendingAck>> _acks = new(StringComparer.Ordinal);
    private Dictionary<(string TaskId, string AgentId), TStatus> _statuses = [];
    private bool _flushQueued;

    /// <summary>A journal whose flushes are queued by <paramref name="post"/> (the store writer's fire-and-forget write).</summary>
    protected CoalescedDeliveryJournal(Action<Action<TContext>, string> post)
    {
        ArgumentNullException.ThrowIfNull(post);
        _post = post;
    }

    /// <summary>
    /// Pushes of <paramref name="agentId"/> in <c>(afterSeq, upToSeq]</c> were acknowledged <paramref name="via"/> at <paramref name="atMs"/>.
    /// <paramref name="byResult"/>: the acknowledgement rode with a result, whose own write takes it (<see cref="TakeInto"/>), so no
    /// write of its own is queued; should that result not be written, <see cref="WriteSoon"/>.
    /// </summary>
    public void Acknowledged(string agentId, long afterSeq, long upToSeq, string via, long atMs, bool byResult = false)
    {
        lock (_lock)
        {
            if (!_acks.TryGetValue(agentId, out var list))
            {
                _acks[agentId] = list = new List<PendingAck>(1);
            }

            list.Add(new PendingAck(afterSeq, upToSeq, via, atMs));
            if (!byResult)
            {
                QueueFlush();
            }
        }
    }

    /// <summary>Queues a write of everything pending (an acknowledgement that rode with a result the store did not take).</summary>
    public void WriteSoon()
    {
        lock (_lock)
        {
            if (_acks.Count > 0 || _statuses.Count > 0)
            {
                QueueFlush();
            }
        }
    }

    /// <summary>
    /// Stores a result with the acknowledgement it carried (<paramref name="carriedAck"/>, null for none; docs/protocol.md section 7):
    /// <paramref name="acknowledge"/> applies it at once (as <see cref="Acknowledged"/> with <c>byResult</c>), so the result's own
    /// write takes it; should <paramref name="store"/> fail, the acknowledgement is written on its own.
    /// </summary>
    public async Task<T> StoreWithCarriedAckAsync<TState, T>(TState state, long? carriedAck, Action<TState, long> acknowledge, Func<TState, Task<T>> store)
    {
        ArgumentNullException.ThrowIfNull(acknowledge);
        ArgumentNullException.ThrowIfNull(store);
        if (carriedAck is long upToSeq)
        {
            acknowledge(state, upToSeq);
        }

        try
        {
            return await store(state).ConfigureAwait(false);
        }
        catch
        {
            if (carriedAck is not null)
            {
                // why: the result's write did not take the acknowledgement; it must still reach the store.
                WriteSoon();
            }

            throw;
        }
    }

    /// <summary>A status of task <paramref name="taskId"/> on <paramref name="agentId"/> (best effort; a later one replaces it).</summary>
    public void Status(string taskId, string agentId, TStatus status)
    {
        lock (_lock)
        {
            _statuses[(taskId, agentId)] = status;
            QueueFlush();
        }
    }

    /// <summary>
    /// Inside a result's write: writes <paramref name="agentId"/>'s pending acknowledgements there and drops the pending status of the
    /// result's target, so the result's final state is written after the delivery and instead of the status.
    /// </summary>
    public void TakeInto(TContext context, string agentId, string taskId)
    {
        if (Take(agentId, taskId) is { } acks)
        {
            WriteAcknowledged(context, agentId, acks);
        }
    }

    /// <summary>
    /// Inside a result's write, for a store that writes them itself: takes <paramref name="agentId"/>'s pending acknowledgements (oldest
    /// first; null when there are none) and drops the pending status of the result's target, as <see cref="TakeInto"/> does.
    /// </summary>
    /// <param name="agentId">The result's agent.</param>
    /// <param name="taskId">The result's task.</param>
    /// <param name="once">What this write took when it ran before, kept for its runs again (null: the write runs once).</param>
    protected IReadOnlyList<PendingAck>? Take(string agentId, string taskId, JournalTake? once = null)
    {
        if (once is { Taken: true })
        {
            return once.Acks;
        }

        List<PendingAck>? acks;
        lock (_lock)
        {
            _acks.Remove(agentId, out acks);
            _statuses.Remove((taskId, agentId));
        }

        if (once is not null)
        {
            once.Taken = true;
            once.Acks = acks;
        }

        return acks;
    }

    /// <summary>Writes <paramref name="agentId"/>'s acknowledgements, oldest first.</summary>
    protected abstract void WriteAcknowledged(TContext context, string agentId, IReadOnlyList<PendingAck> acks);

    /// <summary>Writes one pending status.</summary>
    protected abstract void WriteStatus(TContext context, TStatus status);

    // why: called under _lock; one posted write at a time, it takes all that is pending when it runs.
    private void QueueFlush()
    {
        if (_flushQueued)
        {
            return;
        }

        _flushQueued = true;
        var flush = new PendingFlush(this);
        _post(flush.Write, "delivery progress (acknowledgements, statuses)");
    }

    // why: the flush's own record of what it took, so a run again of its transaction writes the same (see JournalTake).
    private sealed class PendingFlush(CoalescedDeliveryJournal<TContext, TStatus> journal)
    {
        private Dictionary<string, List<PendingAck>>? _acks;
        private Dictionary<(string TaskId, string AgentId), TStatus>? _statuses;

        public void Write(TContext context)
        {
            if (_acks is null || _statuses is null)
            {
                lock (journal._lock)
                {
                    journal._flushQueued = false;
                    (_acks, journal._acks) = (journal._acks, new Dictionary<string, List<PendingAck>>(StringComparer.Ordinal));
                    (_statuses, journal._statuses) = (journal._statuses, []);
                }
            }

            journal.Flush(context, _acks, _statuses);
        }
    }

    private void Flush(TContext context, Dictionary<string, List<PendingAck>> acks, Dictionary<(string TaskId, string AgentId), TStatus> statuses)
    {
        foreach (var (agentId, list) in acks)
        {
            WriteAcknowledged(context, agentId, list);
        }

        foreach (var status in statuses.Values)
        {
            WriteStatus(context, status);
        }
    }
}

/// <summary>An acknowledgement of the pushes in <c>(AfterSeq, UpToSeq]</c>, made <c>Via</c> the channel or a poll at <c>AtMs</c>.</summary>
public readonly record struct PendingAck(long AfterSeq, long UpToSeq, string Via, long AtMs);

/// <summary>
/// What one store write took from a <see cref="CoalescedDeliveryJournal{TContext, TStatus}"/>: kept by the write, so that when its
/// transaction is run again (a conflict with another writer of a shared database) it writes what its first run took.
/// </summary>
public sealed class JournalTake
{
    internal bool Taken { get; set; }

    internal IReadOnlyList<PendingAck>? Acks { get; set; }
}
