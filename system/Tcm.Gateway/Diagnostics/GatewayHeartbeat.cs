using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Diagnostics;

/// <summary>
/// One timer for the whole gateway: every second it samples the per-second rates (idle tunnels are closed by YARP's activity
/// timeout, <see cref="GatewayOptions.TunnelIdleTimeout"/>). On stop it ends every tunnel.
/// </summary>
internal sealed partial class GatewayHeartbeat(RelayServices services, ILogger<GatewayHeartbeat> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SlowTick = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var time = services.Time;
        using var timer = new PeriodicTimer(Interval, time);
        var last = time.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var start = time.GetTimestamp();
                services.Metrics.SampleRates(time.GetElapsedTime(last, start));
                last = start;
                var elapsed = time.GetElapsedTime(start);
                if (elapsed > SlowTick)
                {
                    Log.Slow(logger, elapsed.TotalMilliseconds, services.Backends.All.Sum(b => b.OpenTunnels));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await services.Stopping.CancelAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 631, Level = LogLevel.Warning, Message = "Slow gateway heartbeat: {Milliseconds:0.0} ms for {Tunnels} tunnels")]
        public static partial void Slow(ILogger logger, double milliseconds, long tunnels);
    }
}
