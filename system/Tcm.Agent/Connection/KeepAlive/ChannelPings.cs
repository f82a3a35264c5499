using Tcm.Agent.Status;
using Tcm.Channels.Framing;

namespace Tcm.Agent.Connection;

/// <summary>
/// The agent's keep-alive for all its channels on one tick (docs/protocol.md, Keep-alive): one timer per agent, and at each tick
/// a ping on every open channel, written one after the other before any is awaited. Through the gateway the Notification Server
/// and Task Server channels share one HTTP/2 connection, whose writer then sends both pings in one write (one TLS record, one
/// segment) where each channel's own WebSocket timer sent them apart; directly, the agent at least wakes once per interval.
/// </summary>
/// <remarks>
/// The tick comes every interval of the channel with the shortest one (a channel never waits longer than its announced interval);
/// a channel that opens joins the running tick, so its first ping comes within one interval as before. A ping that has not been
/// answered (nothing came from the server) within the timeout fails its channel, as the WebSocket's own keep-alive did.
/// </remarks>
internal sealed class ChannelPings(TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    // why: the streams themselves, which carry their keep-alive (a simulator holds thousands of agents, each with two channels).
    private readonly List<PingedStream> _channels = new(capacity: 2);
    private ITimer? _timer;
    private long _nextPing;
    private bool _disposed;

    /// <summary>How many channels are pinged.</summary>
    public int Count
    {
        get { lock (_gate) { return _channels.Count; } }
    }

    /// <summary>Wraps a channel's upgraded stream and pings it from now on, until the stream is disposed.</summary>
    public PingedStream Add(Stream upgraded, ChannelKeepAlive keepAlive)
    {
        if (keepAlive.Interval <= TimeSpan.Zero)
        {
            return new PingedStream(upgraded, time, keepAlive, owner: null);
        }

        var stream = new PingedStream(upgraded, time, keepAlive, this);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = time.GetTimestamp();
            var next = now + IntervalOf(stream);
            _nextPing = _channels.Count == 0 ? next : Math.Min(_nextPing, next);
            _channels.Add(stream);
            _timer ??= time.CreateTimer(static state => ((ChannelPings)state!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            ScheduleLocked(now, pinging: false);
        }

        return stream;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _channels.Clear();
            _timer?.Dispose();
            _timer = null;
        }
    }

    /// <summary>A pinged stream was disposed: it is pinged no more.</summary>
    internal void Remove(PingedStream stream)
    {
        lock (_gate)
        {
            _channels.Remove(stream);
            if (_channels.Count == 0)
            {
                _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Tick()
    {
        List<PingedStream>? failed = null;
        PingedStream[] ping = [];
        lock (_gate)
        {
            if (_disposed || _channels.Count == 0)
            {
                return;
            }

            var now = time.GetTimestamp();
            foreach (var channel in _channels)
            {
                if (channel.PingedAt is not 0 and var pingedAt && now - pingedAt >= TimeoutOf(channel))
                {
                    (failed ??= []).Add(channel);
                }
            }

            // A failed channel is pinged and checked no more (its WebSocket disposes it when its receive fails).
            foreach (var channel in failed ?? [])
            {
                _channels.Remove(channel);
            }

            if (_channels.Count == 0)
            {
                _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
            else
            {
                if (now >= _nextPing)
                {
                    ping = [.. _channels];
                    _nextPing = now + _channels.Min(IntervalOf);
                }

                ScheduleLocked(now, pinging: ping.Length > 0);
            }
        }

        if (ping.Length > 0)
        {
            _ = PingAllAsync(ping);
        }

        foreach (var channel in failed ?? [])
        {
            channel.Fail($"no answer to the keep-alive ping within {DelayText.Format(channel.KeepAlive.Timeout)}");
        }
    }

    /// <summary>
    /// Every ping is written before any is flushed: on one HTTP/2 connection they wait in its buffer together and its first flush
    /// sends them in one write (the second finds nothing left).
    /// </summary>
    private static async Task PingAllAsync(PingedStream[] streams)
    {
        var written = new Task<bool>[streams.Length];
        for (var i = 0; i < streams.Length; i++)
        {
            written[i] = streams[i].WritePingAsync();
        }

        for (var i = 0; i < streams.Length; i++)
        {
            if (await written[i].ConfigureAwait(false))
            {
                await streams[i].FlushPingAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The timer to the next ping or the next deadline of an unanswered ping, whichever is first.</summary>
    private void ScheduleLocked(long now, bool pinging)
    {
        var due = _nextPing;
        foreach (var channel in _channels)
        {
            // A channel pinged at this tick (its ping is written after the lock) is checked a timeout from now.
            if ((pinging ? now : channel.PingedAt) is not 0 and var pingedAt)
            {
                due = Math.Min(due, pingedAt + TimeoutOf(channel));
            }
        }

        var wait = TimeSpan.FromSeconds(Math.Max(0, due - now) / (double)time.TimestampFrequency);
        _timer?.Change(wait, Timeout.InfiniteTimeSpan);
    }

    private long IntervalOf(PingedStream stream) => Ticks(stream.KeepAlive.Interval);

    private long TimeoutOf(PingedStream stream) => Ticks(stream.KeepAlive.Timeout);

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * time.TimestampFrequency);
}
