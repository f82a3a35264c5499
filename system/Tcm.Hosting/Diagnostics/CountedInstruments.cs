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
    public void Add(long count, string tag, string? value)
    {
        _counter.Add(count, new KeyValuePair<string, object?>(tag, value));
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
    public void Increment()
    {
        _counter.Add(1);
        Interlocked.Increment(ref _value);
    }

    /// <summary>Takes one away.</summary>
    public void Decrement()
    {
        _counter.Add(-1);
        Interlocked.Decrement(ref _value);
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
