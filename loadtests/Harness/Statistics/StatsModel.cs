using System.Text.Json.Serialization;

namespace Tcm.LoadTests.Harness.Statistics;

/// <summary>Latency percentiles of the successful requests of a step or scenario, in milliseconds.</summary>
internal sealed record LatencyStats
{
    public double MinMs { get; init; }
    public double MeanMs { get; init; }
    public double P50Ms { get; init; }
    public double P75Ms { get; init; }
    public double P95Ms { get; init; }
    public double P99Ms { get; init; }
    public double MaxMs { get; init; }

    /// <summary>Reads the percentiles of a histogram of microseconds.</summary>
    public static LatencyStats From(LogHistogram histogram) => new()
    {
        MinMs = histogram.Min / 1000.0,
        MeanMs = histogram.Mean / 1000.0,
        P50Ms = histogram.Percentile(50) / 1000.0,
        P75Ms = histogram.Percentile(75) / 1000.0,
        P95Ms = histogram.Percentile(95) / 1000.0,
        P99Ms = histogram.Percentile(99) / 1000.0,
        MaxMs = histogram.Max / 1000.0,
    };
}

/// <summary>The successful requests of a step or scenario.</summary>
internal sealed record OkStats
{
    /// <summary>Number of OK responses.</summary>
    public long Count { get; init; }

    /// <summary>OK responses per second of the measured duration.</summary>
    public double Rps { get; init; }

    /// <summary>Latency of the OK responses.</summary>
    public LatencyStats Latency { get; init; } = new();

    /// <summary>Bytes the OK responses reported (<c>Response.Ok(sizeBytes: n)</c>).</summary>
    public long Bytes { get; init; }
}

/// <summary>The failed requests of a step or scenario.</summary>
internal sealed record FailStats
{
    /// <summary>Number of failed responses.</summary>
    public long Count { get; init; }

    /// <summary>Failed responses as a percentage (0-100) of all responses.</summary>
    public double Percent { get; init; }

    /// <summary>Failed responses per second of the measured duration.</summary>
    public double Rps { get; init; }

    /// <summary>The most frequent failure messages.</summary>
    public IReadOnlyList<FailMessage> Messages { get; init; } = [];
}

/// <summary>A failure message and how often it was seen.</summary>
internal sealed record FailMessage(string Message, long Count);

/// <summary>Statistics of one step (or of a whole scenario iteration).</summary>
internal sealed record StepStats
{
    /// <summary>Step name; for a scenario's iterations, the scenario's name.</summary>
    public string Name { get; init; } = "";

    /// <summary>All responses, OK and failed.</summary>
    public long Count { get; init; }

    /// <summary>All responses per second of the measured duration.</summary>
    public double Rps { get; init; }

    /// <summary>Length of the measurement, seconds.</summary>
    public double DurationSeconds { get; init; }

    public OkStats Ok { get; init; } = new();

    public FailStats Fail { get; init; } = new();

    /// <summary>The OK latency histogram (µs), kept so shards merge exactly.</summary>
    public HistogramData Histogram { get; init; } = new();
}

/// <summary>How gauge values from several shards combine.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<GaugeMerge>))]
internal enum GaugeMerge
{
    /// <summary>Add the shards' values (connections open, bytes).</summary>
    Sum,

    /// <summary>Average the shards' values (per-connection figures measured by every shard on the same server).</summary>
    Mean,

    /// <summary>Largest value (time to all connected).</summary>
    Max,

    /// <summary>Smallest value.</summary>
    Min,
}

/// <summary>A custom figure a test reports (memory per connection, CPU %, time to all connected).</summary>
internal sealed record GaugeValue
{
    public string Name { get; init; } = "";
    public double Value { get; init; }

    /// <summary>Unit: <c>ms</c>, <c>s</c>, <c>bytes</c>, <c>%</c>, <c>/s</c>, or a free word.</summary>
    public string Unit { get; init; } = "";

    public GaugeMerge Merge { get; init; } = GaugeMerge.Mean;

    /// <summary>What the figure means, for the report.</summary>
    public string Description { get; init; } = "";
}

/// <summary>One step's figures over one sampling interval.</summary>
internal sealed record SeriesSample
{
    public string Name { get; init; } = "";
    public long Ok { get; init; }
    public long Fail { get; init; }
    public double P50Ms { get; init; }
    public double P99Ms { get; init; }

    /// <summary>The interval's latency histogram, for exact merging across shards; null when empty.</summary>
    public HistogramData? Histogram { get; init; }
}

/// <summary>One point of a scenario's time series (sampled every second).</summary>
internal sealed record TimeSeriesPoint
{
    /// <summary>Seconds since the scenario's measurement started.</summary>
    public double Seconds { get; init; }

    /// <summary>Length of the interval this point covers, seconds.</summary>
    public double IntervalSeconds { get; init; } = 1;

    /// <summary>Current load: the scenario's <c>connections</c> gauge if it sets one, otherwise copies plus iterations in flight.</summary>
    public double Connections { get; init; }

    /// <summary>Working set of the harness process, bytes.</summary>
    public long WorkingSetBytes { get; init; }

    /// <summary>Managed heap of the harness process (<see cref="GC.GetTotalMemory(bool)"/> without collecting), bytes.</summary>
    public long ManagedHeapBytes { get; init; }

    /// <summary>The scenario's iterations over the interval.</summary>
    public SeriesSample Iterations { get; init; } = new();

    /// <summary>Each step over the interval.</summary>
    public IReadOnlyList<SeriesSample> Steps { get; init; } = [];
}

/// <summary>Everything measured for one scenario.</summary>
internal sealed record ScenarioStats
{
    public string Name { get; init; } = "";

    /// <summary>Measured duration (after warm-up), seconds.</summary>
    public double DurationSeconds { get; init; }

    /// <summary>Why the scenario ended before its load simulations did, if it did.</summary>
    public string? StopReason { get; init; }

    /// <summary>How many processes' results this holds (1 unless merged from shards).</summary>
    public int Shards { get; init; } = 1;

    /// <summary>The scenario's iterations as a whole.</summary>
    public StepStats Iterations { get; init; } = new();

    /// <summary>Steps in order of first use.</summary>
    public IReadOnlyList<StepStats> Steps { get; init; } = [];

    public IReadOnlyList<GaugeValue> Gauges { get; init; } = [];

    public IReadOnlyList<TimeSeriesPoint> TimeSeries { get; init; } = [];

    /// <summary>The step called <paramref name="name"/>, or null.</summary>
    public StepStats? FindStep(string name) => Steps.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The gauge called <paramref name="name"/>, or null.</summary>
    public GaugeValue? FindGauge(string name) => Gauges.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.OrdinalIgnoreCase));
}
