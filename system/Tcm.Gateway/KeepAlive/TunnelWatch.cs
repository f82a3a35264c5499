using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tcm.Gateway.Diagnostics;

namespace Tcm.Gateway.KeepAlive;

/// <summary>
/// The gateway's one housekeeping pass over the tunnels whose pings it answers (<see cref="AgentKeepAliveStream"/>): it ends
/// every tunnel whose agent sent nothing, not even a ping, for two of its keep-alive intervals. Ending the tunnel resets the
/// backend's stream, so the backend closes the channel at once, as it would have closed it for silence had the pings reached it.
/// No timer per tunnel.
/// </summary>
/// <remarks>
/// The pass runs every <see cref="Tick"/>: an eighth of the shortest silence limit watched, between <see cref="ShortestTick"/>
/// and <see cref="LongestTick"/> (15 s for the agents' default 60 s keep-alive), so a silent agent's tunnel ends at most an
/// eighth of its limit late. Why not every second: at 4,000 idle agents the one-second pass over 8,000 tunnels, and the
/// runtime's walk of its long timers (YARP's activity timer of every tunnel) that each firing timer brings, were a tenth of the
/// idle gateway's CPU (docs/benchmarks.md, issue 16).
/// </remarks>
internal sealed partial class TunnelWatch(TimeProvider time, GatewayMetrics metrics, ILogger<TunnelWatch> logger) : BackgroundService
{
    /// <summary>The shortest time between two passes, for silence limits of 8 s and less.</summary>
    public static readonly TimeSpan ShortestTick = TimeSpan.FromSeconds(1);

    /// <summary>The longest time between two passes, for silence limits of 2 minutes and more.</summary>
    public static readonly TimeSpan LongestTick = TimeSpan.FromSeconds(15);

    private const int PassesPerLimit = 8;

    private readonly ConcurrentDictionary<Watched, byte> _tunnels = new();
    private readonly Lock _tickGate = new();
    private TimeSpan _tick = LongestTick;
    private long _shortened;
    private PeriodicTimer? _timer;

    /// <summary>Tunnels watched now.</summary>
    public int Count => _tunnels.Count;

    /// <summary>The time between two passes now: an eighth of the shortest silence limit watched, within its bounds.</summary>
    public TimeSpan Tick
    {
        get
        {
            lock (_tickGate)
            {
                return _tick;
            }
        }
    }

    /// <summary>Watches a tunnel until the returned registration is disposed (when the tunnel ends).</summary>
    public IDisposable Watch(HttpContext context, AgentKeepAliveStream stream, TimeSpan silenceLimit)
    {
        var watched = new Watched(this, context, stream, (long)(silenceLimit.TotalSeconds * time.TimestampFrequency));
        _tunnels.TryAdd(watched, 0);
        var wanted = TickFor(silenceLimit);
        lock (_tickGate)
        {
            if (wanted < _tick)
            {
                _shortened++;
                SetTick(wanted);
            }
        }

        return watched;
    }

    /// <summary>Ends the tunnels silent for too long; one pass.</summary>
    public void Check()
    {
        long shortenedBefore;
        lock (_tickGate)
        {
            shortenedBefore = _shortened;
        }

        var now = time.GetTimestamp();
        var shortest = long.MaxValue;
        foreach (var (watched, _) in _tunnels)
        {
            shortest = Math.Min(shortest, watched.Limit);
            var silent = now - watched.Stream.LastHeard;
            if (silent > watched.Limit && _tunnels.TryRemove(watched, out _))
            {
                metrics.KeepAlive(KeepAliveOutcome.TimedOut);
                Log.AgentSilent(logger, watched.Context.Connection.RemoteIpAddress?.ToString(), silent / (double)time.TimestampFrequency);
                watched.Context.Abort();
            }
        }

        // why: the tick follows the tunnels watched now, so it lengthens again when the tunnels with short limits are gone; a
        // tunnel watched during this pass, which the pass may have missed, keeps the tick it asked for.
        var tick = shortest == long.MaxValue ? LongestTick : TickFor(TimeSpan.FromSeconds(shortest / (double)time.TimestampFrequency));
        lock (_tickGate)
        {
            SetTick(_shortened != shortenedBefore && _tick < tick ? _tick : tick);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, time);
        lock (_tickGate)
        {
            _timer = timer;
            timer.Period = _tick;
        }

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
        finally
        {
            lock (_tickGate)
            {
                _timer = null;
            }
        }
    }

    private static TimeSpan TickFor(TimeSpan silenceLimit)
    {
        var tick = silenceLimit / PassesPerLimit;
        return tick < ShortestTick ? ShortestTick : tick > LongestTick ? LongestTick : tick;
    }

    /// <summary>Sets the tick; the caller holds <see cref="_tickGate"/>.</summary>
    private void SetTick(TimeSpan tick)
    {
        if (tick == _tick)
        {
            return;
        }

        _tick = tick;
        // why: a new period restarts the wait, so a shorter limit is checked from now on, not after the longer tick.
        if (_timer is not null)
        {
            _timer.Period = tick;
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
