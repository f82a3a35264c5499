using Tcm.Protocol;

namespace Tcm.Channels.Delivery;

/// <summary>
/// Nothing lost, nothing twice, in order per agent: the delivery rules the Notification Server and the Task Server share. Each server
/// keeps its own store (what a push row and an acknowledgement write look like); the sequencing, the per-agent gates, the session start
/// (its re-send goes through the <see cref="PushWindow"/>), the hand-out over HTTP and the result identity (<see cref="ResultIdentity"/>) are here.
/// </summary>
public static class DeliveryEngine
{
    /// <summary>
    /// Enters the gates of every agent in <paramref name="agents"/> (distinct, any order), always in ordinal order of their keys so
    /// two fan-outs over the same agents cannot deadlock. Dispose the result to leave them.
    /// </summary>
    public static async ValueTask<GateLease<T>> EnterAsync<T>(T[] agents, Func<T, string> key, CancellationToken cancellationToken)
        where T : PushSequence
    {
        if (agents.Length > 1)
        {
            Array.Sort(agents, (a, b) => string.CompareOrdinal(key(a), key(b)));
        }

        var held = 0;
        try
        {
            foreach (var agent in agents)
            {
                await agent.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                held++;
            }
        }
        catch
        {
            for (var i = 0; i < held; i++)
            {
                agents[i].Gate.Release();
            }

            throw;
        }

        return new GateLease<T>(agents);
    }

    /// <summary>
    /// Starts a session after its hello (the caller took <c>lastReceivedSeq</c> as an acknowledgement first): under the agent's gate,
    /// makes <paramref name="channel"/> the agent's channel, queues the welcome and lets pushes through. Every stored push after the
    /// acknowledged one is re-sent through <paramref name="window"/>, in order, at most <see cref="PushWindow.PerChannel"/> at a time
    /// (an agent back with more stored pushes than its channel's send queue holds is not aborted); pushes still waiting in the window
    /// are not sent twice. Returns the channel it replaced.
    /// </summary>
    public static async Task<IPushChannel?> StartSessionAsync(
        PushSequence agent,
        IPushChannel channel,
        WelcomeMessage welcome,
        PushWindow window,
        CancellationToken cancellationToken)
    {
        await agent.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IPushChannel? replaced;
            bool catchUp;
            lock (agent.SendLock)
            {
                replaced = agent.AttachChannel(channel);
                channel.Send(welcome);
                channel.Ready = true;
                catchUp = window.StartCatchUp(agent);
            }

            // why: still under the gate, so the re-send is queued before any push stored after this hello.
            if (catchUp)
            {
                window.CatchUp(agent);
            }

            return ReferenceEquals(replaced, channel) ? null : replaced;
        }
        finally
        {
            agent.Gate.Release();
        }
    }

    /// <summary>
    /// Pushes up to <paramref name="lastStoredSeq"/> were stored for the agent by another server sharing the store (several Notification
    /// Server nodes on one database): under the agent's gate its next sequence number moves past them, and a channel it has here catches
    /// up from the store through <paramref name="window"/>, in order, without what it already has. Repeating it changes nothing.
    /// </summary>
    public static async Task StoredElsewhereAsync(PushSequence agent, long lastStoredSeq, PushWindow window, CancellationToken cancellationToken)
    {
        await agent.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (lastStoredSeq >= agent.NextSeq)
            {
                agent.NextSeq = lastStoredSeq + 1;
            }

            window.StoredElsewhere(agent);
        }
        finally
        {
            agent.Gate.Release();
        }
    }

    /// <summary>The channel ended: pushes wait in the store for the next hello or poll; its in-flight share leaves the window.</summary>
    public static void EndSession(PushSequence agent, IPushChannel channel, PushWindow window)
    {
        if (agent.DetachChannel(channel))
        {
            window.Changed(agent);
        }
    }

    /// <summary>The HTTP fallback's answer: the stored pushes after the acknowledged one, decoded, in order.</summary>
    public static PendingPushes HandOut(IEnumerable<byte[]> payloads)
    {
        var items = new List<Message>();
        foreach (var payload in payloads)
        {
            if (MessageCodec.Decode(payload, int.MaxValue).Message is { } message)
            {
                items.Add(message);
            }
        }

        return new PendingPushes { Items = items };
    }
}

/// <summary>The gates <see cref="DeliveryEngine.EnterAsync"/> entered; disposing leaves them.</summary>
public readonly struct GateLease<T> : IDisposable
    where T : PushSequence
{
    internal GateLease(T[] agents) => Agents = agents;

    /// <summary>The agents whose gates are held, in the order they were entered.</summary>
    public T[] Agents { get; }

    /// <summary>Leaves every gate.</summary>
    public void Dispose()
    {
        foreach (var agent in Agents ?? [])
        {
            agent.Gate.Release();
        }
    }
}
