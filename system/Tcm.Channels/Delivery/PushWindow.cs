namespace Tcm.Channels.Delivery;

/// <summary>
/// Reads an agent's stored pushes after sequence <paramref name="afterSeq"/>, in sequence order, at most <paramref name="max"/> of them.
/// </summary>
public delegate IEnumerable<(long Seq, byte[] Payload)> StoredPushReader(PushSequence agent, long afterSeq, int max);

/// <summary>
/// Back-pressure for fan-outs: stored pushes go to the agents' channels only while fewer than <see cref="Capacity"/> are in flight
/// (written to a channel, not yet acknowledged), and fewer than <see cref="PerChannel"/> on any one channel, so a server given more
/// than it can carry sends large fan-outs in waves, at the rate its agents acknowledge them, instead of filling every send queue at
/// once and timing all of them out together.
/// <para>
/// Pushes wait in one FIFO queue, so an agent's pushes leave in sequence order whatever fan-outs they belong to. A push is always
/// stored before it is queued here, and a channel gets its agent's pushes strictly in sequence: a push that cannot go next (its agent
/// is at its share of the window, or its new session still owes it older stored pushes) is dropped from the queue and the agent
/// catches up from the store (<see cref="StoredPushReader"/>) through the same queue, as acknowledgements free room. One whose agent
/// has no channel waits in the store for the next hello or poll. Nothing is lost, and a push is written to one channel once.
/// </para>
/// </summary>
public sealed class PushWindow
{
    /// <summary>The default of <see cref="PerChannel"/>: half the Notification Server's default send queue per channel.</summary>
    public const int DefaultPerChannel = 500;

    private readonly Lock _lock = new();
    private readonly Queue<Entry> _queue = new();
    private readonly Dictionary<string, int> _waitingByAction = new(StringComparer.Ordinal);
    private readonly StoredPushReader _stored;
    private readonly Action<int>? _onSent;
    private long _inFlight;
    private long _sent;
    private bool _pumping;

    /// <summary>A window of <paramref name="capacity"/> pushes in flight, at most <paramref name="perChannel"/> on one channel.</summary>
    /// <param name="capacity">Most pushes in flight at once.</param>
    /// <param name="stored">Reads an agent's stored pushes: a session's re-send and an agent's catch-up come from the store.</param>
    /// <param name="perChannel">Most pushes in flight on one channel (keep it below the channel's send queue bound).</param>
    /// <param name="onSent">
    /// Told how many pushes each pass wrote to channels, also the passes an acknowledgement or a hello starts (which <see cref="Admit"/>'s
    /// count does not see); null for none.
    /// </param>
    public PushWindow(int capacity, StoredPushReader stored, int perChannel = DefaultPerChannel, Action<int>? onSent = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(perChannel, 1);
        Capacity = capacity;
        PerChannel = perChannel;
        _stored = stored;
        _onSent = onSent;
    }

    /// <summary>Most pushes in flight at once.</summary>
    public int Capacity { get; }

    /// <summary>Most pushes in flight on one channel.</summary>
    public int PerChannel { get; }

    /// <summary>Pushes written to a channel and not yet acknowledged.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Pushes written to channels by the window so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Stored pushes waiting for room in the window (an agent catching up from the store counts once).</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>The pushes of action <paramref name="actionId"/> still waiting for room in the window.</summary>
    public int WaitingFor(string actionId)
    {
        lock (_lock)
        {
            return _waitingByAction.GetValueOrDefault(actionId);
        }
    }

    /// <summary>
    /// Queues stored pushes (call it under the agents' gates, so each agent's pushes enter in sequence order) and sends as many as the
    /// window has room for; returns how many of them this call wrote to a channel.
    /// </summary>
    public int Admit(IEnumerable<(PushSequence Agent, long Seq, byte[] Payload)> pushes, string? actionId)
    {
        lock (_lock)
        {
            var count = 0;
            foreach (var (agent, seq, payload) in pushes)
            {
                _queue.Enqueue(new Entry(agent, seq, payload, actionId));
                count++;
            }

            if (actionId is not null && count > 0)
            {
                _waitingByAction[actionId] = _waitingByAction.GetValueOrDefault(actionId) + count;
            }
        }

        return Pump();
    }

    /// <summary>The agent's acknowledged sequence, channel or session changed: recounts its share and sends more if room opened.</summary>
    public void Changed(PushSequence agent)
    {
        bool opened, catchUp;
        lock (agent.SendLock)
        {
            opened = Recount(agent) < 0;
            catchUp = QueueCatchUpIfRoom(agent);
        }

        if (catchUp)
        {
            Enqueue(agent);
        }

        if (opened || catchUp)
        {
            Pump();
        }
    }

    /// <summary>
    /// A session started (under the agent's gate and send lock): nothing stored is on its channel yet. The agent catches up from the
    /// store through the queue, after the pushes already waiting, at most <see cref="PerChannel"/> at a time.
    /// </summary>
    internal bool StartCatchUp(PushSequence agent)
    {
        agent.SentSeq = agent.AckedSeq;
        agent.Behind = agent.NextSeq - 1 > agent.AckedSeq;
        Recount(agent);
        return QueueCatchUpIfRoom(agent);
    }

    /// <summary>
    /// Under the agent's gate: pushes this window was not given may be stored for the agent (another server stored them); a channel
    /// that lacks any catches up from the store through the queue.
    /// </summary>
    internal void StoredElsewhere(PushSequence agent)
    {
        bool catchUp;
        lock (agent.SendLock)
        {
            if (agent.Channel is { Ready: true } && agent.NextSeq - 1 > Math.Max(agent.SentSeq, agent.AckedSeq))
            {
                agent.Behind = true;
            }

            catchUp = QueueCatchUpIfRoom(agent);
        }

        if (catchUp)
        {
            CatchUp(agent);
        }
    }

    /// <summary>Queues an agent's catch-up (its flag already set under its send lock) and sends what the window has room for.</summary>
    internal void CatchUp(PushSequence agent)
    {
        Enqueue(agent);
        Pump();
    }

    /// <summary>Under <paramref name="agent"/>'s send lock: sets its share of the in-flight count; returns the change.</summary>
    internal long Recount(PushSequence agent)
    {
        var now = agent.Channel is { Ready: true } ? Math.Max(0, agent.SentSeq - agent.AckedSeq) : 0;
        var delta = now - agent.InFlightCounted;
        if (delta != 0)
        {
            agent.InFlightCounted = now;
            Interlocked.Add(ref _inFlight, delta);
        }

        return delta;
    }

    // why: under the agent's send lock; one catch-up entry per agent at a time, and only while its channel has room (an
    // acknowledgement queues the next one).
    private bool QueueCatchUpIfRoom(PushSequence agent)
    {
        if (!agent.Behind || agent.CatchUpQueued || agent.Channel is not { Ready: true } || OnChannel(agent) >= PerChannel)
        {
            return false;
        }

        agent.CatchUpQueued = true;
        return true;
    }

    private static long OnChannel(PushSequence agent) => Math.Max(agent.SentSeq, agent.AckedSeq) - agent.AckedSeq;

    private void Enqueue(PushSequence agent)
    {
        lock (_lock)
        {
            _queue.Enqueue(new Entry(agent, 0, null, null));
        }
    }

    // why: one pumper at a time keeps the queue's order on the wire; a caller that finds it pumping leaves the work to it, which
    // re-checks the room under the lock before it stops (room is freed before Pump is called, so no wake-up is lost).
    private int Pump()
    {
        lock (_lock)
        {
            if (_pumping)
            {
                return 0;
            }

            _pumping = true;
        }

        var sent = 0;
        while (true)
        {
            Entry next;
            lock (_lock)
            {
                if (_queue.Count == 0 || InFlight >= Capacity)
                {
                    _pumping = false;
                    if (sent > 0)
                    {
                        _onSent?.Invoke(sent);
                    }

                    return sent;
                }

                next = _queue.Dequeue();
                if (next.ActionId is { } actionId)
                {
                    var left = _waitingByAction[actionId] - 1;
                    if (left == 0)
                    {
                        _waitingByAction.Remove(actionId);
                    }
                    else
                    {
                        _waitingByAction[actionId] = left;
                    }
                }
            }

            var (count, again) = next.Payload is { } payload ? Send(next.Agent, next.Seq, payload) : SendStored(next.Agent);
            if (again)
            {
                Enqueue(next.Agent);
            }

            sent += count;
            Interlocked.Add(ref _sent, count);
        }
    }

    // The window's send of one queued push: written to the agent's channel only when it is the next one the channel lacks and the
    // channel has room; otherwise (no session yet, already re-sent, or the agent owes older pushes) it is left to the store.
    private (int Sent, bool CatchUp) Send(PushSequence agent, long seq, byte[] payload)
    {
        lock (agent.SendLock)
        {
            if (agent.Channel is not { Ready: true } channel || seq <= Math.Max(agent.SentSeq, agent.AckedSeq))
            {
                return (0, false);
            }

            if (agent.Behind || seq != Math.Max(agent.SentSeq, agent.AckedSeq) + 1 || OnChannel(agent) >= PerChannel)
            {
                agent.Behind = true;
                return (0, QueueCatchUpIfRoom(agent));
            }

            channel.SendPush(payload);
            agent.SentSeq = seq;
            Recount(agent);
            return (1, false);
        }
    }

    // An agent's catch-up: the stored pushes its channel lacks, in order, as many as its share and the window have room for; queued
    // again when the window, not its share, held it back.
    private (int Sent, bool Again) SendStored(PushSequence agent)
    {
        lock (agent.SendLock)
        {
            agent.CatchUpQueued = false;
            if (!agent.Behind || agent.Channel is not { Ready: true } channel)
            {
                return (0, false);
            }

            var room = (int)Math.Min(PerChannel - OnChannel(agent), Capacity - InFlight);
            var sent = 0;
            if (room > 0)
            {
                // why: one more than there is room for says whether the store holds more; when it does not, every stored push is on the
                // channel, and pushes stored later are queued after this entry.
                var more = false;
                foreach (var (seq, payload) in _stored(agent, Math.Max(agent.SentSeq, agent.AckedSeq), room + 1))
                {
                    if (sent == room)
                    {
                        more = true;
                        break;
                    }

                    channel.SendPush(payload);
                    agent.SentSeq = seq;
                    sent++;
                }

                agent.Behind = more;
                Recount(agent);
            }

            return (sent, QueueCatchUpIfRoom(agent));
        }
    }

    private readonly record struct Entry(PushSequence Agent, long Seq, byte[]? Payload, string? ActionId);
}
