namespace Tcm.LoadTests.Harness.Statistics;

/// <summary>
/// A log-bucket histogram of non-negative values (latencies in microseconds) with a bounded relative error,
/// in the manner of DDSketch: bucket <c>i</c> holds values in <c>(γ^(i-1), γ^i]</c> and is read back as
/// <c>2γ^i / (γ + 1)</c>, so every percentile is within <c>(γ - 1) / (γ + 1)</c> (about 1% for the default γ = 1.02)
/// of a value that was recorded. The bucket layout is fixed, so histograms from different processes merge exactly.
/// </summary>
/// <remarks>Recording is lock-free (one <see cref="Interlocked"/> increment per bucket) and safe from many threads.</remarks>
internal sealed class LogHistogram
{
    /// <summary>Default growth factor between bucket bounds: 1.02, a relative error of 0.99%.</summary>
    public const double DefaultGamma = 1.02;

    /// <summary>Largest value tracked in its own bucket: 10^10 µs (about 2.8 hours); larger values land in the last bucket.</summary>
    public const long MaxTrackable = 10_000_000_000;

    private readonly long[] _counts;
    private readonly double _logGamma;
    private long _count;
    private long _sum;
    private long _min = long.MaxValue;
    private long _max = long.MinValue;

    /// <summary>Creates an empty histogram with growth factor <paramref name="gamma"/> (default 1.02).</summary>
    public LogHistogram(double gamma = DefaultGamma)
    {
        if (gamma is <= 1.0 or > 2.0)
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "The growth factor must be in (1, 2].");
        }

        Gamma = gamma;
        _logGamma = Math.Log(gamma);
        _counts = new long[BucketIndexUnchecked(MaxTrackable) + 1];
    }

    /// <summary>The growth factor between bucket bounds.</summary>
    public double Gamma { get; }

    /// <summary>The worst relative error of a percentile read back: (γ - 1) / (γ + 1).</summary>
    public double RelativeError => (Gamma - 1) / (Gamma + 1);

    /// <summary>Number of values recorded.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Sum of the values recorded (exact).</summary>
    public long Sum => Volatile.Read(ref _sum);

    /// <summary>Smallest value recorded (exact), 0 when empty.</summary>
    public long Min => Count == 0 ? 0 : Volatile.Read(ref _min);

    /// <summary>Largest value recorded (exact), 0 when empty.</summary>
    public long Max => Count == 0 ? 0 : Volatile.Read(ref _max);

    /// <summary>Mean of the values recorded (exact), 0 when empty.</summary>
    public double Mean => Count == 0 ? 0 : (double)Sum / Count;

    /// <summary>Number of buckets (fixed by γ).</summary>
    public int BucketCount => _counts.Length;

    /// <summary>Records one value; negative values count as 0.</summary>
    public void Record(long value) => Record(value, 1);

    /// <summary>Records <paramref name="times"/> occurrences of <paramref name="value"/>.</summary>
    public void Record(long value, long times)
    {
        if (times <= 0)
        {
            return;
        }

        value = Math.Max(0, value);
        Interlocked.Add(ref _counts[BucketIndex(value)], times);
        Interlocked.Add(ref _count, times);
        Interlocked.Add(ref _sum, value * times);
        UpdateMin(value);
        UpdateMax(value);
    }

    /// <summary>Records a duration in microseconds.</summary>
    public void Record(TimeSpan duration) => Record(duration.Ticks / TimeSpan.TicksPerMicrosecond);

    /// <summary>The bucket a value falls in.</summary>
    public int BucketIndex(long value) => value <= 1 ? 0 : Math.Min(BucketIndexUnchecked(value), _counts.Length - 1);

    /// <summary>The value a bucket reads back as: the midpoint (in relative terms) of its bounds.</summary>
    public double BucketValue(int index) => index == 0 ? 1 : 2 * Math.Pow(Gamma, index) / (Gamma + 1);

    /// <summary>
    /// The value at percentile <paramref name="percentile"/> (0-100) by nearest rank, read from its bucket and
    /// clamped to the exact minimum and maximum. 0 when empty.
    /// </summary>
    public double Percentile(double percentile)
    {
        var count = Count;
        if (count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100.0 * count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Clamp(i == 0 ? Min : BucketValue(i), Min, Max);
            }
        }

        return Max;
    }

    /// <summary>Adds every value of <paramref name="other"/> to this histogram (exact: the layouts are the same).</summary>
    public void Add(LogHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Gamma != Gamma)
        {
            throw new ArgumentException($"Cannot merge a histogram with γ={other.Gamma} into one with γ={Gamma}.", nameof(other));
        }

        if (other.Count == 0)
        {
            return;
        }

        for (var i = 0; i < _counts.Length; i++)
        {
            var c = Volatile.Read(ref other._counts[i]);
            if (c != 0)
            {
                Interlocked.Add(ref _counts[i], c);
            }
        }

        Interlocked.Add(ref _count, other.Count);
        Interlocked.Add(ref _sum, other.Sum);
        UpdateMin(other.Min);
        UpdateMax(other.Max);
    }

    /// <summary>A copy of this histogram.</summary>
    public LogHistogram Clone()
    {
        var copy = new LogHistogram(Gamma);
        copy.Add(this);
        return copy;
    }

    /// <summary>A compact, serialisable form holding only the non-empty buckets.</summary>
    public HistogramData ToData()
    {
        var buckets = new List<long[]>();
        for (var i = 0; i < _counts.Length; i++)
        {
            var c = Volatile.Read(ref _counts[i]);
            if (c != 0)
            {
                buckets.Add([i, c]);
            }
        }

        return new HistogramData
        {
            Gamma = Gamma,
            Count = Count,
            Sum = Sum,
            Min = Min,
            Max = Max,
            Buckets = buckets,
        };
    }

    /// <summary>Rebuilds a histogram from its compact form.</summary>
    public static LogHistogram FromData(HistogramData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var histogram = new LogHistogram(data.Gamma);
        if (data.Count == 0)
        {
            return histogram;
        }

        foreach (var bucket in data.Buckets)
        {
            if (bucket.Length != 2 || bucket[0] < 0 || bucket[0] >= histogram._counts.Length)
            {
                throw new FormatException("A histogram bucket must be [index, count] with an index inside the layout.");
            }

            histogram._counts[bucket[0]] += bucket[1];
        }

        histogram._count = data.Count;
        histogram._sum = data.Sum;
        histogram._min = data.Min;
        histogram._max = data.Max;
        return histogram;
    }

    private int BucketIndexUnchecked(long value) => (int)Math.Ceiling(Math.Log(value) / _logGamma - 1e-9);

    private void UpdateMin(long value)
    {
        var current = Volatile.Read(ref _min);
        while (value < current)
        {
            var seen = Interlocked.CompareExchange(ref _min, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void UpdateMax(long value)
    {
        var current = Volatile.Read(ref _max);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref _max, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

/// <summary>The serialisable form of a <see cref="LogHistogram"/>: only non-empty buckets, as [index, count] pairs.</summary>
internal sealed record HistogramData
{
    /// <summary>Growth factor of the bucket layout.</summary>
    public double Gamma { get; init; } = LogHistogram.DefaultGamma;

    /// <summary>Number of values.</summary>
    public long Count { get; init; }

    /// <summary>Exact sum of the values.</summary>
    public long Sum { get; init; }

    /// <summary>Exact minimum.</summary>
    public long Min { get; init; }

    /// <summary>Exact maximum.</summary>
    public long Max { get; init; }

    /// <summary>Non-empty buckets as [index, count].</summary>
    public IReadOnlyList<long[]> Buckets { get; init; } = [];
}
