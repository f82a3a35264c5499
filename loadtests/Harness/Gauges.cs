using System.Collections.Concurrent;

namespace Tcm.LoadTests.Harness;

/// <summary>
/// Custom figures a test reports for its scenario (memory per connection, CPU %, connections open, time to all connected).
/// A gauge called <see cref="Connections"/> also feeds the connections curve of the time series. Thread-safe.
/// </summary>
internal sealed class GaugeSet
{
    /// <summary>The gauge name the time series reads as "connections open".</summary>
    public const string Connections = "connections";

    private readonly ConcurrentDictionary<string, GaugeValue> _gauges = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _order = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Sets (or replaces) a gauge.</summary>
    /// <param name="name">Name, as used in thresholds (<c>server-heap-per-connection &lt; 20KB</c>).</param>
    /// <param name="value">The figure.</param>
    /// <param name="unit">Unit: ms, s, bytes, %, /s or a word.</param>
    /// <param name="merge">How shards combine it.</param>
    /// <param name="description">What it means, for the report.</param>
    public void Set(string name, double value, string unit = "", GaugeMerge merge = GaugeMerge.Mean, string description = "")
    {
        _order.TryAdd(name, _order.Count);
        _gauges[name] = new GaugeValue { Name = name, Value = value, Unit = unit, Merge = merge, Description = description };
    }

    /// <summary>The current value of a gauge, or null.</summary>
    public double? Get(string name) => _gauges.TryGetValue(name, out var gauge) ? gauge.Value : null;

    /// <summary>The gauges in the order they were first set.</summary>
    public IReadOnlyList<GaugeValue> Snapshot() =>
        _gauges.Values.OrderBy(g => _order.TryGetValue(g.Name, out var i) ? i : int.MaxValue).ToList();

    /// <summary>Forgets every gauge.</summary>
    public void Clear()
    {
        _gauges.Clear();
        _order.Clear();
    }
}
