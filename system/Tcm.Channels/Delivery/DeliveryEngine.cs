using Tcm.Protocol;

namespace Tcm.Channels.Delivery;

/// <summary>
/// Nothing lost, nothing twice, in order per agent: the delivery rules the Notification Server and the Task Server share. Each server
/// keeps its own store (what a push row and an acknowledgement write look like); the sequencing, the per-agent gates, the re-send on
/// hello, the hand-out over HTTP and the result identity (<see cref="ResultIdentity"/>) are here.
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
    /// makes <paramref name="channel"/> the agent's channel, queues the welcome, re-sends every push after the acknowledged one in
    /// order, and only then lets fresh pushes through. Returns the channel it replaced and how many pushes were re-sent. With a
    /// <paramref name="window"/>, the re-sent pushes count as in flight and pushes still waiting in it are not sent again.
    /// </summary>
    public static async Task<(IPushChannel? Replaced, int Resent)> StartSessionAsync(
        PushSequence agent,
        IPushChannel channel,
        WelcomeMessage welcome,
        Func<long, IEnumerable<byte[]>> pushesAfter,
        CancellationToken cancellationToken,
        PushWindow? window = null)
    {
        await agent.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IPushChannel? replaced;
            var resent = 0;
            lock (agent.SendLock)
            {
                replaced = agent.AttachChannel(channel);
                channel.Send(welcome);
                var from = agent.AckedSeq;
                if (agent.NextSeq - 1 > from)
                {
                    foreach (var payload in pushesAfter(from))
                    {
                        channel.SendPayload(payload);
                        resent++;
                    }
                }

                // why: every stored push is numbered under the gate held here, so all up to NextSeq - 1 are now on this channel.
                agent.SentSeq = agent.NextSeq - 1;
                channel.Ready = true;
                window?.Recount(agent);
            }

            return (ReferenceEquals(replaced, channel) ? null : replaced, resent);
        }
        finally
        {
            agent.Gate.Release();
        }
    }

    /// <summary>The channel ended: pushes wait in the store for the next hello or poll; its in-flight share leaves the window.</summary>
    public static void EndSession(PushSequence agent, IPushChannel channel, PushWindow? window = null)
    {
        if (agent.DetachChannel(channel))
        {
            window?.Changed(agent);
        }
    }

    /// <summary>Queues a stored push on the agent's channel if its session started; false when it waits for the next hello or poll.</summary>
    public static bool TrySend(PushSequence agent, byte[] payload, bool offload)
    {
        if (agent.Channel is { Ready: true } channel)
        {
            channel.SendPayload(payload, offload);
            return true;
        }

        return false;
    }

    /// <summary>
    /// The window's send: writes push <paramref name="seq"/> to the agent's channel unless the channel's session has not started (the
    /// push waits in the store) or already carries it (re-sent on hello); counts it in flight.
    /// </summary>
    internal static bool TrySend(PushSequence agent, long seq, byte[] payload, PushWindow window)
    {
        lock (agent.SendLock)
        {
            if (agent.Channel is not { Ready: true } channel || seq <= agent.SentSeq || seq <= agent.AckedSeq)
            {
                return false;
            }

            channel.SendPayload(payload, offload: true);
            agent.SentSeq = seq;
            window.Recount(agent);
            return true;
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
