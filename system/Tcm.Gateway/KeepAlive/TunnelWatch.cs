using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tcm.Gateway.Diagnostics;

namespace Tcm.Gateway.KeepAlive;

/// <summary>
/// The gateway's one housekeeping pass over the tunnels whose pings it answers (<see cref="AgentKeepAliveStream"/>): once a
/// second it ends every tunnel whose agent sent nothing, not even a ping, for two of its keep-alive intervals. Ending the tunnel
/// resets the backend's stream, so the backend closes the channel at once, as it would have closed it for silence had the pings
/// reached it. No timer per tunnel.
/// </summary>
internal sealed partial class TunnelWatch(TimeProvider time, GatewayMetrics metrics, ILogger<TunnelWatch> logger) : BackgroundService
{
    /// <summary>How often the tunnels are checked.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<Watched, byte> _tunnels = new();

    /// <summary>Tunnels watched now.</summary>
    public int Count => _tunnels.Count;

    /// <summary>Watches a tunnel until the returned registration is disposed (when the tunnel ends).</summary>
    public IDisposable Watch(HttpContext context, AgentKeepAliveStream stream, TimeSpan silenceLimit)
    {
        var watched = new Watched(this, context, stream, (long)(silenceLimit.TotalSeconds * time.TimestampFrequency));
        _tunnels.TryAdd(watched, 0);
        return watched;
    }

    /// <summary>Ends the tunnels silent for too long; one pass.</summary>
    public void Check()
    {
        var now = time.GetTimestamp();
        foreach (var (watched, _) in _tunnels)
        {
            var silent = now - watched.Stream.LastHeard;
            if (silent > watched.Limit && _tunnels.TryRemove(watched, out _))
            {
                metrics.KeepAlive(KeepAliveOutcome.TimedOut);
                Log.AgentSilent(logger, watched.Context.Connection.RemoteIpAddress?.ToString(), silent / (double)time.TimestampFrequency);
                watched.Context.Abort();
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Check();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private sealed class Watched(TunnelWatch watch, HttpContext context, AgentKeepAliveStream stream, long limit) : IDisposable
    {
        public HttpContext Context { get; } = context;

        public AgentKeepAliveStream Stream { get; } = stream;

        public long Limit { get; } = limit;

        public void Dispose() => watch._tunnels.TryRemove(this, out _);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 613, Level = LogLevel.Information, Message = "Ended a tunnel from {RemoteAddress}: nothing from the agent for {Seconds:0.#} s, two of its keep-alive intervals")]
        public static partial void AgentSilent(ILogger logger, string? remoteAddress, double seconds);
    }
}
