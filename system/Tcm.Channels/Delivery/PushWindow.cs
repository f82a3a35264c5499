namespace Tcm.Channels.Delivery;

/// <summary>
/// Back-pressure for fan-outs: stored pushes go to the agents' channels only while fewer than <see cref="Capacity"/> are in flight
/// (written to a channel, not yet acknowledged), so a server given more than it can carry sends large fan-outs in waves, at the rate
/// its agents acknowledge them, instead of filling every send queue at once and timing all of them out together.
/// <para>
/// Pushes wait in one FIFO queue, so an agent's pushes leave in sequence order whatever fan-outs they belong to. A push is always
/// stored before it is queued here: one that waits while its agent reconnects is re-sent by the session start
/// (<see cref="DeliveryEngine.StartSessionAsync"/>) and skipped here, one whose agent has no channel waits in the store for the next
/// hello or poll. Nothing is lost, and a push is written to one channel once.
/// </para>
/// </summary>
public sealed class PushWindow
{
    private readonly Lock _lock = new();
    private readonly Queue<Entry> _queue = new();
    private readonly Dictionary<string, int> _waitingByAction = new(StringComparer.Ordinal);
    private long _inFlight;
    private readonly Action<int>? _onSent;
    private long _sent;
    private bool _pumping;

    /// <summary>A window of <paramref name="capacity"/> pushes in flight.</summary>
    /// <param name="capacity">Most pushes in flight at once.</param>
    /// <param name="onSent">
    /// Told how many pushes each pass wrote to channels, also the passes an acknowledgement starts (which <see cref="Admit"/>'s count
    /// does not see); null for none.
    /// </param>
    public PushWindow(int capacity, Action<int>? onSent = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _onSent = onSent;
    }

    /// <summary>Most pushes in flight at once.</summary>
    public int Capacity { get; }

    /// <summary>Pushes written to a channel and not yet acknowledged.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Pushes written to channels by the window so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Stored pushes waiting for room in the window.</summary>
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
        bool opened;
        lock (agent.SendLock)
        {
            opened = Recount(agent) < 0;
        }

        if (opened)
        {
            Pump();
        }
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

            if (DeliveryEngine.TrySend(next.Agent, next.Seq, next.Payload, this))
            {
                sent++;
                Interlocked.Increment(ref _sent);
            }
        }
    }

    private readonly record struct Entry(PushSequence Agent, long Seq, byte[] Payload, string? ActionId);
}
