namespace Tcm.Channels.Delivery;

/// <summary>
/// One agent's push sequence, the same on the Notification Server and the Task Server: the next sequence number, the highest
/// acknowledged one, the agent's open channel, and the agent's gate. The gate orders ONE agent's pushes and session starts (a hello
/// that re-sends from the store and a push that sends fresh cannot interleave), so agents never wait for each other.
/// </summary>
public class PushSequence
{
    private long _ackedSeq;
    private IPushChannel? _channel;

    /// <summary>A sequence that continues after <paramref name="nextSeq"/> - 1, acknowledged up to <paramref name="ackedSeq"/>.</summary>
    public PushSequence(long nextSeq = 1, long ackedSeq = 0)
    {
        NextSeq = Math.Max(1, nextSeq);
        _ackedSeq = ackedSeq;
    }

    /// <summary>Held while the agent's pushes are numbered, stored and queued, and while its session starts.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>
    /// Held (briefly, never across an await) while a push is written to the agent's channel or the session's re-send runs, so a push a
    /// <see cref="PushWindow"/> releases late and the re-send on hello never both send it, and while its in-flight share is counted.
    /// </summary>
    internal Lock SendLock { get; } = new();

    /// <summary>The highest sequence number queued on the current channel; under <see cref="SendLock"/>.</summary>
    internal long SentSeq { get; set; }

    /// <summary>
    /// The current channel lacks stored pushes that the window's queue does not hold in order: they come from the store (the session's
    /// re-send, or a push held back by the agent's share of the window); under <see cref="SendLock"/>.
    /// </summary>
    internal bool Behind { get; set; }

    /// <summary>The agent's catch-up from the store is queued in its <see cref="PushWindow"/>; under <see cref="SendLock"/>.</summary>
    internal bool CatchUpQueued { get; set; }

    /// <summary>What this agent adds to its <see cref="PushWindow"/>'s in-flight count now; under <see cref="SendLock"/>.</summary>
    internal long InFlightCounted { get; set; }

    /// <summary>The next push sequence number to allocate; changed only under <see cref="Gate"/>.</summary>
    public long NextSeq { get; set; }

    /// <summary>Highest acknowledged push sequence number.</summary>
    public long AckedSeq => Interlocked.Read(ref _ackedSeq);

    /// <summary>Pushes stored but not acknowledged.</summary>
    public long PendingPushes => Math.Max(0, NextSeq - 1 - AckedSeq);

    /// <summary>The agent's channel once its session started (see <see cref="DeliveryEngine.StartSessionAsync"/>), else null.</summary>
    public IPushChannel? Channel => Volatile.Read(ref _channel);

    /// <summary>
    /// Raises the acknowledged sequence number to <paramref name="upToSeq"/>, never past the last allocated one; returns the previous
    /// value when it moved, or -1 (an old or repeated acknowledgement).
    /// </summary>
    public long RaiseAckedSeq(long upToSeq)
    {
        upToSeq = Math.Min(upToSeq, NextSeq - 1);
        while (true)
        {
            var current = Interlocked.Read(ref _ackedSeq);
            if (upToSeq <= current)
            {
                return -1;
            }

            if (Interlocked.CompareExchange(ref _ackedSeq, upToSeq, current) == current)
            {
                return current;
            }
        }
    }

    /// <summary>Makes <paramref name="channel"/> the agent's channel; returns the one it replaced.</summary>
    internal IPushChannel? AttachChannel(IPushChannel channel) => Interlocked.Exchange(ref _channel, channel);

    /// <summary>Forgets <paramref name="channel"/> when it ended; false when a newer channel already took its place.</summary>
    public bool DetachChannel(IPushChannel channel) => Interlocked.CompareExchange(ref _channel, null, channel) == channel;

    /// <summary>Sets the state read from the store at start.</summary>
    protected void InitializeSequence(long nextSeq, long ackedSeq)
    {
        NextSeq = Math.Max(1, nextSeq);
        Interlocked.Exchange(ref _ackedSeq, ackedSeq);
    }
}
