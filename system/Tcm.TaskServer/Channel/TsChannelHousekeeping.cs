using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tcm.TaskServer.Channel;

/// <summary>
/// One heartbeat for all Client Task Agent channels (not a timer per connection): closes channels that sent no hello in time and
/// aborts channels that did not answer our close.
/// </summary>
internal sealed partial class TsChannelHousekeeping(TsChannelServices services, ILogger<TsChannelHousekeeping> logger) : BackgroundService
{
    private static readonly TimeSpan SlowTick = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var time = services.Time;
        var helloTimeout = services.Options.HelloTimeout;
        using var timer = new PeriodicTimer(Tcm.Channels.Framing.ChannelSet<TsSession>.HeartbeatPeriod(helloTimeout), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var started = time.GetTimestamp();
                services.Channels.CheckDeadlines(time.GetUtcNow(), helloTimeout);
                var elapsed = time.GetElapsedTime(started);
                if (elapsed > SlowTick)
                {
                    Log.SlowTick(logger, elapsed.TotalMilliseconds, services.Channels.Count);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2220, Level = LogLevel.Warning, Message = "TS channel housekeeping took {ElapsedMs:0} ms for {Count} channels")]
        public static partial void SlowTick(ILogger logger, double elapsedMs, int count);
    }
}
