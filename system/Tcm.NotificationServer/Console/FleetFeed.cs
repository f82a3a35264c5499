using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Tcm.NotificationServer.Admin;
using Tcm.NotificationServer.Policy;
// why: Tcm.NotificationServer.Channel (the agents' channel) would shadow System.Threading.Channels.Channel.
using FeedChannel = System.Threading.Channels.Channel<byte[]>;

namespace Tcm.NotificationServer.AdminConsole;

/// <summary>
/// The console's live feed: while anyone listens, snapshots the fleet's counts (<see cref="AgentViews.Fleet"/>) once a
/// second and hands the same serialized snapshot to every subscriber. A slow subscriber only ever holds the latest one
/// (a channel of one, oldest dropped), so it can neither stall the others nor grow memory. No subscriber, no timer.
/// </summary>
internal sealed partial class FleetFeed(
    AgentViews views,
    PolicyService policy,
    IOptions<NotificationServerOptions> options,
    TimeProvider time,
    ILogger<FleetFeed> logger) : IDisposable
{
    /// <summary>How often a snapshot is taken.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly List<FeedChannel> _subscribers = [];
    private ITimer? _timer;
    private bool _disposed;

    /// <summary>Listeners right now.</summary>
    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>Starts listening: the current snapshot is waiting at once, then one a second. Dispose the subscription to stop.</summary>
    public Subscription Subscribe()
    {
        var channel = System.Threading.Channels.Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
        });
        channel.Writer.TryWrite(Snapshot());
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _subscribers.Add(channel);
            _timer ??= time.CreateTimer(static state => ((FleetFeed)state!).Tick(), this, Period, Period);
        }

        return new Subscription(this, channel);
    }

    /// <summary>The serialized snapshot now (UTF-8 JSON).</summary>
    public byte[] Snapshot() => JsonSerializer.SerializeToUtf8Bytes(
        new FleetSnapshot
        {
            At = time.GetUtcNow(),
            Fleet = views.Fleet(),
            TcmEnabled = policy.Configuration.Settings.TcmEnabled,
            ServerName = options.Value.ServerName,
        },
        ConsoleJsonContext.Default.FleetSnapshot);

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }

            _subscribers.Clear();
        }
    }

    private void Tick()
    {
        FeedChannel[] subscribers;
        lock (_gate)
        {
            subscribers = [.. _subscribers];
        }

        if (subscribers.Length == 0)
        {
            return;
        }

        byte[] snapshot;
        try
        {
            snapshot = Snapshot();
        }
        catch (InvalidOperationException ex)
        {
            // why: a timer callback must not throw; the next tick tries again.
            LogSnapshotFailed(logger, ex);
            return;
        }

        foreach (var subscriber in subscribers)
        {
            subscriber.Writer.TryWrite(snapshot);
        }
    }

    private void Unsubscribe(FeedChannel channel)
    {
        lock (_gate)
        {
            _subscribers.Remove(channel);
            channel.Writer.TryComplete();
            if (_subscribers.Count == 0)
            {
                _timer?.Dispose();
                _timer = null;
            }
        }
    }

    [LoggerMessage(EventId = 900, Level = LogLevel.Warning, Message = "Console feed: could not take a fleet snapshot")]
    private static partial void LogSnapshotFailed(ILogger logger, Exception exception);

    /// <summary>One listener of the feed.</summary>
    internal sealed class Subscription(FleetFeed feed, FeedChannel channel) : IDisposable
    {
        /// <summary>Snapshots, newest only.</summary>
        public ChannelReader<byte[]> Reader => channel.Reader;

        public void Dispose() => feed.Unsubscribe(channel);
    }
}
