using Tcm.LoadTests.Harness.Statistics;

namespace Tcm.LoadTests.Tests;

public sealed class LogHistogramTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Percentiles_OfRandomLatencies_AreWithinOnePercentOfExact(int seed)
    {
        var random = new Random(seed);
        var histogram = new LogHistogram();
        var values = new long[50_000];
        for (var i = 0; i < values.Length; i++)
        {
            // Log-normal latencies from tens of microseconds to seconds.
            values[i] = (long)Math.Exp(7 + 2 * Gaussian(random));
            histogram.Record(values[i]);
        }

        Array.Sort(values);
        foreach (var p in new[] { 1, 10, 50, 75, 90, 95, 99, 99.9 })
        {
            var exact = values[(int)Math.Ceiling(p / 100 * values.Length) - 1];
            histogram.Percentile(p).Should().BeApproximately(exact, Math.Max(1, exact * histogram.RelativeError * 1.0001), $"p{p}");
        }

        histogram.Count.Should().Be(values.Length);
        histogram.Min.Should().Be(values[0]);
        histogram.Max.Should().Be(values[^1]);
        histogram.Mean.Should().BeApproximately(values.Average(), 1e-6);
    }

    [Fact]
    public void RelativeError_OfDefaultLayout_IsUnderOnePercent() =>
        new LogHistogram().RelativeError.Should().BeLessThan(0.01);

    [Fact]
    public void Merge_OfTwoHalves_EqualsOneHistogramOfEverything()
    {
        var random = new Random(7);
        var all = new LogHistogram();
        var first = new LogHistogram();
        var second = new LogHistogram();
        for (var i = 0; i < 20_000; i++)
        {
            var value = random.NextInt64(1, 5_000_000);
            all.Record(value);
            (i % 3 == 0 ? first : second).Record(value);
        }

        var merged = first.Clone();
        merged.Add(second);

        merged.ToData().Buckets.Select(b => (b[0], b[1])).Should().Equal(all.ToData().Buckets.Select(b => (b[0], b[1])));
        merged.Count.Should().Be(all.Count);
        merged.Sum.Should().Be(all.Sum);
        merged.Min.Should().Be(all.Min);
        merged.Max.Should().Be(all.Max);
        merged.Percentile(99).Should().Be(all.Percentile(99));
    }

    [Fact]
    public void Data_RoundTrip_KeepsEveryFigure()
    {
        var histogram = new LogHistogram();
        foreach (var v in new long[] { 0, 1, 5, 900, 1_000_000, 12_345_678 })
        {
            histogram.Record(v);
        }

        var copy = LogHistogram.FromData(histogram.ToData());

        copy.Count.Should().Be(6);
        copy.Min.Should().Be(0);
        copy.Max.Should().Be(12_345_678);
        copy.Percentile(50).Should().Be(histogram.Percentile(50));
    }

    [Fact]
    public void Empty_ReadsAsZero()
    {
        var histogram = new LogHistogram();
        histogram.Percentile(99).Should().Be(0);
        histogram.Min.Should().Be(0);
        histogram.Max.Should().Be(0);
    }

    [Fact]
    public void Merge_WithDifferentLayouts_Throws()
    {
        var act = () => new LogHistogram(1.02).Add(new LogHistogram(1.05));
        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Record_FromManyThreads_CountsEveryValue()
    {
        var histogram = new LogHistogram();
        Parallel.For(0, 100_000, i => histogram.Record(i % 1000 + 1));
        histogram.Count.Should().Be(100_000);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
