using System.Diagnostics.Metrics;

namespace Tcm.Hosting.Diagnostics;

/// <summary>
/// What every server's metrics class shares: its meter, created by the host's <see cref="IMeterFactory"/> under a stable name
/// (<c>Tcm.NotificationServer</c>, <c>Tcm.TaskServer</c>, <c>Tcm.Gateway</c>), the instruments made on it, and its disposal.
/// Units and names follow OpenTelemetry's conventions: <c>{connection}</c>, <c>{push}</c>, <c>ms</c>, <c>By</c>.
/// </summary>
public abstract class ServerMeter : IDisposable
{
    /// <summary>Bucket boundaries for latencies in milliseconds: 1 ms to 1 minute.</summary>
    public static readonly IReadOnlyList<double> MillisecondBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];

    /// <summary>Creates the meter <paramref name="meterName"/>.</summary>
    protected ServerMeter(IMeterFactory meters, string meterName)
    {
        ArgumentNullException.ThrowIfNull(meters);
        Meter = meters.Create(meterName);
    }

    /// <summary>The meter.</summary>
    protected Meter Meter { get; }

    /// <summary>A counter that keeps its total.</summary>
    protected CountedCounter Counter(string name, string unit, string description) => new(Meter, name, unit, description);

    /// <summary>An up-down counter that keeps its value.</summary>
    protected CountedUpDownCounter UpDownCounter(string name, string unit, string description) => new(Meter, name, unit, description);

    /// <summary>An observable gauge read at each collection (scrape or export).</summary>
    protected void Gauge<T>(string name, Func<T> observe, string unit, string description)
        where T : struct => Meter.CreateObservableGauge(name, observe, unit, description);

    /// <summary>Disposes the meter: its instruments stop publishing.</summary>
    public void Dispose()
    {
        Meter.Dispose();
        GC.SuppressFinalize(this);
    }
}
