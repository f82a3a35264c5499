using System.Net.WebSockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Tcm.Channels.Framing;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Channel;

/// <summary>
/// One heartbeat for all channels (not a timer per connection): closes channels that sent no hello in time, aborts
/// channels that did not answer our close, and writes changed last-contact times and the agents this node took (with the route of the
/// hello, which other nodes sharing the database read) or gave up in one batch, so a connect storm's hellos cost no write of their own. On shutdown it closes
/// every channel with <c>server-shutdown</c>.
/// </summary>
internal sealed partial class ChannelHousekeeping(
    ConnectionRegistry registry,
    AgentDirectory directory,
    TcmStore store,
    NodeIdentity node,
    IOptions<NotificationServerOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ChannelHousekeeping> logger) : BackgroundService
{
    private static readonly TimeSpan ContactFlushInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SlowTick = TimeSpan.FromMilliseconds(250);

    /// <summary>The tick period: a fifth of the hello timeout, between 100 ms and 1 s.</summary>
    internal TimeSpan Period { get; } = ChannelSet<ChannelSession>.HeartbeatPeriod(options.Value.HelloTimeout);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(CloseAll);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        var lastFlush = time.GetUtcNow();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var started = time.GetTimestamp();
                var now = time.GetUtcNow();
                Tick(now);
                if (now - lastFlush >= ContactFlushInterval)
                {
                    lastFlush = now;
                    FlushContacts();
                }

                var elapsed = time.GetElapsedTime(started);
                if (elapsed > SlowTick)
                {
                    Log.SlowTick(logger, elapsed.TotalMilliseconds, registry.All.Count);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        FlushContacts();
    }

    /// <summary>One pass over every open channel.</summary>
    internal void Tick(DateTimeOffset now) => registry.CheckDeadlines(now, options.Value.HelloTimeout);

    private void FlushContacts()
    {
        List<(string Id, long Ms)>? dirty = null;
        List<(string Id, string? Node, string? Route)>? moved = null;
        foreach (var agent in directory.All)
        {
            if (agent.TryTakeDirtyContact(out var ms))
            {
                (dirty ??= []).Add((agent.Id, ms));
            }

            if (agent.TryTakeChangedNode(out var holder))
            {
                (moved ??= []).Add((agent.Id, holder, agent.Route));
            }
        }

        if (dirty is null && moved is null)
        {
            return;
        }

        var self = node.Name;
        store.Writer.Post(
            ctx =>
            {
                foreach (var (id, ms) in dirty ?? [])
                {
                    ctx.Defer("UPDATE agents SET last_contact=@p1 WHERE id=@p0", id, ms);
                }

                foreach (var (id, holder, route) in moved ?? [])
                {
                    if (holder is null)
                    {
                        // why: an agent that left this node may already be held by another, whose name must stay.
                        ctx.Defer("UPDATE agents SET node=NULL WHERE id=@p0 AND node=@p1", id, self);
                    }
                    else
                    {
                        ctx.Defer("UPDATE agents SET node=@p1, route=@p2 WHERE id=@p0", id, holder, route);
                    }
                }
            },
            "last contact and node");
    }

    private void CloseAll()
    {
        var sessions = registry.All.ToList();
        if (sessions.Count == 0)
        {
            return;
        }

        Log.ClosingAll(logger, sessions.Count);
        foreach (var session in sessions)
        {
            session.BeginClose(WebSocketCloseStatus.EndpointUnavailable, CloseReasons.ServerShutdown, "the server is stopping");
        }

        // why: the heartbeat stops with the host; agents that do not answer the close must not hold up the shutdown.
        _ = Task.Delay(TimeSpan.FromSeconds(3), time).ContinueWith(
            _ =>
            {
                foreach (var session in registry.All)
                {
                    session.Abort();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 320, Level = LogLevel.Warning, Message = "Channel housekeeping took {ElapsedMs:0} ms for {Count} channels")]
        public static partial void SlowTick(ILogger logger, double elapsedMs, int count);

        [LoggerMessage(EventId = 321, Level = LogLevel.Information, Message = "Closing {Count} channels: the server is stopping")]
        public static partial void ClosingAll(ILogger logger, int count);
    }
}
