using System.Collections.Concurrent;

namespace Tcm.Channels.Framing;

/// <summary>Every open channel of a server by connection id, whether or not it said hello: what the one heartbeat walks.</summary>
public sealed class ChannelSet<TChannel>
    where TChannel : ServerChannel
{
    private readonly ConcurrentDictionary<string, TChannel> _all = new(StringComparer.Ordinal);

    /// <summary>The open channels.</summary>
    public ICollection<TChannel> All => _all.Values;

    /// <summary>How many channels are open.</summary>
    public int Count => _all.Count;

    /// <summary>Adds a channel when it is accepted.</summary>
    public void Add(TChannel channel) => _all[channel.ConnectionId] = channel;

    /// <summary>Removes a channel when it ended.</summary>
    public void Remove(TChannel channel) => _all.TryRemove(KeyValuePair.Create(channel.ConnectionId, channel));

    /// <summary>One heartbeat pass: <see cref="ServerChannel.CheckDeadlines"/> on every open channel.</summary>
    public void CheckDeadlines(DateTimeOffset now, TimeSpan helloTimeout)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        foreach (var channel in _all.Values)
        {
            channel.CheckDeadlines(nowMs, helloTimeout);
        }
    }

    /// <summary>The heartbeat period for <paramref name="helloTimeout"/>: a fifth of it, between 100 ms and 1 s.</summary>
    public static TimeSpan HeartbeatPeriod(TimeSpan helloTimeout) =>
        TimeSpan.FromTicks(Math.Clamp(helloTimeout.Ticks / 5, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(1).Ticks));
}
