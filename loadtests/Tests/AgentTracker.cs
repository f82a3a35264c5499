using System.Collections.Concurrent;
using System.Diagnostics;
using Tcm.LoadTests.Harness;
using Tcm.LoadTests.Harness.Statistics;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// Counts agents connected, publishes the <c>connections</c> gauge, and keeps the completions per second (for handshake
/// and reconnect rates). Thread-safe.
/// </summary>
internal sealed class AgentTracker
{
    private readonly ConcurrentDictionary<long, int> _perSecond = new();
    private readonly long _origin = Stopwatch.GetTimestamp();
    private int _connected;
    private GaugeSet? _gauges;

    /// <summary>Agents connected now.</summary>
    public int Connected => Volatile.Read(ref _connected);

    /// <summary>Publishes the connections gauge into <paramref name="gauges"/>.</summary>
    public void Attach(GaugeSet gauges)
    {
        _gauges = gauges;
        gauges.Set(GaugeSet.Connections, Connected, "agents", GaugeMerge.Sum, "agents connected at the end");
    }

    /// <summary>An agent connected; returns the new count.</summary>
    public int OnConnected()
    {
        var n = Interlocked.Increment(ref _connected);
        _perSecond.AddOrUpdate((long)Stopwatch.GetElapsedTime(_origin).TotalSeconds, 1, static (_, c) => c + 1);
        _gauges?.Set(GaugeSet.Connections, n, "agents", GaugeMerge.Sum, "agents connected at the end");
        return n;
    }

    /// <summary>An agent's channel dropped.</summary>
    public void OnDisconnected()
    {
        var n = Interlocked.Decrement(ref _connected);
        _gauges?.Set(GaugeSet.Connections, n, "agents", GaugeMerge.Sum, "agents connected at the end");
    }

    /// <summary>Most connections completed within one second, since <paramref name="since"/> (a Stopwatch timestamp).</summary>
    public int PeakPerSecond(long since = 0)
    {
        var from = since == 0 ? 0 : (long)Stopwatch.GetElapsedTime(_origin, since).TotalSeconds;
        return _perSecond.Where(p => p.Key >= from).Select(p => p.Value).DefaultIfEmpty(0).Max();
    }
}
