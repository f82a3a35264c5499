using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Tcm.Channels.Framing;
using Tcm.NotificationServer.Delivery;

namespace Tcm.NotificationServer.Channel;

/// <summary>
/// Every open channel: all sessions by connection id (including those still waiting for their hello), and the active
/// session of each agent.
/// </summary>
internal sealed class ConnectionRegistry(DeliveryService delivery)
{
    private readonly ChannelSet<ChannelSession> _all = new();
    private readonly ConcurrentDictionary<string, ChannelSession> _byAgent = new(StringComparer.Ordinal);

    /// <summary>Open sessions, whether or not they said hello.</summary>
    public ICollection<ChannelSession> All => _all.All;

    /// <summary>Sessions that said hello, one per agent.</summary>
    public ICollection<ChannelSession> Active => _byAgent.Values;

    public int ActiveCount => _byAgent.Count;

    public void Add(ChannelSession session) => _all.Add(session);

    /// <summary>One heartbeat pass over every open channel (see <see cref="ServerChannel.CheckDeadlines"/>).</summary>
    public void CheckDeadlines(DateTimeOffset now, TimeSpan helloTimeout) => _all.CheckDeadlines(now, helloTimeout);

    /// <summary>Makes <paramref name="session"/> its agent's channel; returns the session it replaced, if any.</summary>
    public ChannelSession? Activate(ChannelSession session)
    {
        ChannelSession? replaced = null;
        _byAgent.AddOrUpdate(
            session.Agent.Id,
            session,
            (_, existing) =>
            {
                replaced = ReferenceEquals(existing, session) ? null : existing;
                return session;
            });
        return replaced;
    }

    public bool TryGetActive(string agentId, [NotNullWhen(true)] out ChannelSession? session) =>
        _byAgent.TryGetValue(agentId, out session);

    public bool IsConnected(string agentId) => _byAgent.ContainsKey(agentId);

    public void Remove(ChannelSession session)
    {
        _all.Remove(session);
        delivery.EndSession(session.Agent, session);
        if (_byAgent.TryRemove(KeyValuePair.Create(session.Agent.Id, session)))
        {
            session.Agent.HeldBy(null);
        }
    }
}
