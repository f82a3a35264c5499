using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tcm.Hosting.Diagnostics;

/// <summary>
/// A counter published on a <see cref="Meter"/> (for exporters and <c>dotnet-counters</c>) that also keeps its total, for the
/// servers' own status endpoints: every server counts the same way.
/// </summary>
public sealed class CountedCounter
{
    private readonly Counter<long> _counter;
    private readonly KeyValuePair<string, object?>? _tag;
    private long _total;

    /// <summary>Creates the counter <paramref name="name"/> on <paramref name="meter"/>.</summary>
    public CountedCounter(Meter meter, string name, string? unit, string description)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _counter = meter.CreateCounter<long>(name, unit, description);
    }

    /// <summary>The part of <paramref name="counter"/> tagged <paramref name="tag"/>=<paramref name="value"/>, with a total of its own.</summary>
    public CountedCounter(Counter<long> counter, string tag, string value)
    {
        ArgumentNullException.ThrowIfNull(counter);
        _counter = counter;
        _tag = new KeyValuePair<string, object?>(tag, value);
    }

    /// <summary>The total added so far.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>Adds <paramref name="count"/>.</summary>
    public void Add(long count = 1)
    {
        if (_tag is { } tag)
        {
            _counter.Add(count, tag);
        }
        else
        {
            _counter.Add(count);
        }

        Interlocked.Add(ref _total, count);
    }

    /// <summary>Adds <paramref name="count"/> with one tag.</summary>
    public void Add(long count, string tag, string? value) => Add(count, new TagList { { tag, value } });

    /// <summary>Adds <paramref name="count"/> to the series of <paramref name="tags"/>.</summary>
    public void Add(long count, in TagList tags)
    {
        _counter.Add(count, tags);
        Interlocked.Add(ref _total, count);
    }
}

/// <summary>An up-down counter published on a <see cref="Meter"/> that also keeps its current value.</summary>
public sealed class CountedUpDownCounter
{
    private readonly UpDownCounter<long> _counter;
    private long _value;

    /// <summary>Creates the up-down counter <paramref name="name"/> on <paramref name="meter"/>.</summary>
    public CountedUpDownCounter(Meter meter, string name, string? unit, string description)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _counter = meter.CreateUpDownCounter<long>(name, unit, description);
    }

    /// <summary>The value now.</summary>
    public long Value => Interlocked.Read(ref _value);

    /// <summary>Adds one.</summary>
    public void Increment() => Add(1, default);

    /// <summary>Takes one away.</summary>
    public void Decrement() => Add(-1, default);

    /// <summary>Adds <paramref name="delta"/> (negative takes away) to the series of <paramref name="tags"/>; the value kept is over all tags.</summary>
    public void Add(long delta, in TagList tags)
    {
        _counter.Add(delta, tags);
        Interlocked.Add(ref _value, delta);
    }
}

/// <summary>
/// A histogram published on a <see cref="Meter"/> that also keeps its count, sum and largest value (whole units), for status
/// endpoints that show a mean and a maximum.
/// </summary>
public sealed class CountedHistogram
{
    private readonly Histogram<double> _histogram;
    private long _count;
    private long _sum;
    private long _max;

    /// <summary>Creates the histogram <paramref name="name"/> on <paramref name="meter"/> with the bucket boundaries exporters should use.</summary>
    public CountedHistogram(Meter meter, string name, string unit, string description, IReadOnlyList<double> boundaries)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _histogram = meter.CreateHistogram(name, unit, description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = boundaries });
    }

    /// <summary>Values recorded so far.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>The mean of the values recorded so far, in whole units; 0 before the first.</summary>
    public long Mean => Count == 0 ? 0 : Interlocked.Read(ref _sum) / Count;

    /// <summary>The largest value recorded so far, in whole units.</summary>
    public long Max => Interlocked.Read(ref _max);

    /// <summary>Records <paramref name="value"/>.</summary>
    public void Record(double value)
    {
        _histogram.Record(value);
        var whole = (long)Math.Max(0, value);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, whole);
        var max = Interlocked.Read(ref _max);
        while (whole > max && Interlocked.CompareExchange(ref _max, whole, max) != max)
        {
            max = Interlocked.Read(ref _max);
        }
    }
}

/// <summary>Counts per key (a refusal's reason or code), for status endpoints that list them.</summary>
public sealed class CountsByKey
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    /// <summary>The counts now.</summary>
    public IReadOnlyDictionary<string, long> Counts => _counts;

    /// <summary>The sum of all counts.</summary>
    public long Sum => _counts.Values.Sum();

    /// <summary>Adds one to <paramref name="key"/>.</summary>
    public void Increment(string key) => _counts.AddOrUpdate(key, 1, static (_, n) => n + 1);
}
