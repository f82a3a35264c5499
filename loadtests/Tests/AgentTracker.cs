using System.Collections.Concurrent;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// Counts agents connected, publishes the <c>connections</c> gauge, and keeps the completions per second (for handshake
/// and reconnect rates). Thread-safe.
/// </summary>
internal sealed class AgentTracker
{
    private readonly ConcurrentQueue<long> _completions = new();
    private readonly Lock _gaugeGate = new();
    private int _connected;
    private GaugeSet? _gauges;
    private CancellationToken _frozen;

    /// <summary>Agents connected now.</summary>
    public int Connected => Volatile.Read(ref _connected);

    /// <summary>Publishes the connections gauge into <paramref name="gauges"/> until <paramref name="stop"/> (so the report keeps the count at the stop, not after the teardown).</summary>
    public void Attach(GaugeSet gauges, CancellationToken stop = default)
    {
        _gauges = gauges;
        _frozen = stop;
        gauges.Set(GaugeSet.Connections, Connected, "agents", GaugeMerge.Sum, "agents connected at the end");
    }

    /// <summary>An agent connected; returns the new count.</summary>
    public int OnConnected()
    {
        var n = Interlocked.Increment(ref _connected);
        _completions.Enqueue(Stopwatch.GetTimestamp());
        PublishCount();
        return n;
    }

    /// <summary>An agent's channel dropped.</summary>
    public void OnDisconnected()
    {
        Interlocked.Decrement(ref _connected);
        if (_frozen.IsCancellationRequested)
        {
            return;
        }

        PublishCount();
    }

    /// <summary>Sets the gauge to the count read under a lock, so a slower thread never writes an older count last.</summary>
    private void PublishCount()
    {
        lock (_gaugeGate)
        {
            if (!_frozen.IsCancellationRequested)
            {
                _gauges?.Set(GaugeSet.Connections, Connected, "agents", GaugeMerge.Sum, "agents connected at the end");
            }
        }
    }

    /// <summary>
    /// Returns once <paramref name="count"/> agents are connected, or after <paramref name="within"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: no limit); the caller reads <see cref="Connected"/> for which.
    /// </summary>
    public async Task WaitForConnectedAsync(int count, TimeSpan within, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (Connected < count && (within == Timeout.InfiniteTimeSpan || time.GetElapsedTime(started) < within))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Most connections completed within any one-second window, counting from <paramref name="since"/> (a Stopwatch timestamp).</summary>
    public int PeakPerSecond(long since = 0) => PeakInWindow(_completions.Where(t => t >= since), Stopwatch.Frequency);

    /// <summary>Most of <paramref name="timestamps"/> inside any window of <paramref name="window"/> ticks (sliding).</summary>
    internal static int PeakInWindow(IEnumerable<long> timestamps, long window)
    {
        var sorted = timestamps.Order().ToArray();
        var peak = 0;
        var first = 0;
        for (var last = 0; last < sorted.Length; last++)
        {
            while (sorted[last] - sorted[first] >= window)
            {
                first++;
            }

            peak = Math.Max(peak, last - first + 1);
        }

        return peak;
    }
}
