using Tcm.LoadTests.Cli;
using Tcm.LoadTests.Harness.Sharding;
using Tcm.LoadTests.Harness.Statistics;

namespace Tcm.LoadTests.Tests;

public sealed class ShardMergerTests
{
    private static (ScenarioStats Stats, LogHistogram Histogram) Shard(int seed, double seconds, double heapPerConnection)
    {
        var random = new Random(seed);
        var histogram = new LogHistogram();
        for (var i = 0; i < 1000; i++)
        {
            histogram.Record(random.NextInt64(100, 900_000));
        }

        var step = StepCollector.Build("connect", 1000, 10, 1000, histogram, seconds, [new FailMessage("refused", 10)]);
        return (new ScenarioStats
        {
            Name = "idle-hold-h1",
            DurationSeconds = seconds,
            Iterations = step with { Name = "idle-hold-h1" },
            Steps = [step],
            Gauges =
            [
                new GaugeValue { Name = "connections", Value = 1000, Merge = GaugeMerge.Sum },
                new GaugeValue { Name = "server-heap-per-connection", Value = heapPerConnection, Merge = GaugeMerge.Mean },
                new GaugeValue { Name = "time-to-all-connected", Value = seconds, Merge = GaugeMerge.Max },
            ],
            TimeSeries = [new TimeSeriesPoint { Seconds = 1.02, Connections = 500, Iterations = new SeriesSample { Ok = 5, Histogram = histogram.ToData() } }],
        }, histogram);
    }

    [Fact]
    public void Merge_AddsCounts_MergesHistogramsExactly_AndCombinesGaugesByRule()
    {
        var (a, ha) = Shard(1, 10, 12_000);
        var (b, hb) = Shard(2, 12, 14_000);
        var all = ha.Clone();
        all.Add(hb);

        var merged = ShardMerger.Merge([a, b]);

        merged.Shards.Should().Be(2);
        merged.DurationSeconds.Should().Be(12);
        var step = merged.FindStep("connect")!;
        step.Ok.Count.Should().Be(2000);
        step.Fail.Count.Should().Be(20);
        step.Rps.Should().BeApproximately(2020 / 12.0, 1e-9);
        step.Ok.Latency.P99Ms.Should().Be(all.Percentile(99) / 1000.0);
        step.Fail.Messages.Single().Count.Should().Be(20);
        merged.FindGauge("connections")!.Value.Should().Be(2000);
        merged.FindGauge("server-heap-per-connection")!.Value.Should().Be(13_000);
        merged.FindGauge("time-to-all-connected")!.Value.Should().Be(12);
        merged.TimeSeries.Single().Connections.Should().Be(1000);
        merged.TimeSeries.Single().Iterations.Ok.Should().Be(10);
    }

    [Theory]
    [InlineData(10, 3)]
    [InlineData(4000, 4)]
    [InlineData(7, 7)]
    public void Shares_CoverEveryAgentOnce(int agents, int shards)
    {
        var shares = Enumerable.Range(0, shards).Select(s => TestHost.Share(agents, s, shards)).ToList();

        shares.Sum(s => s.Count).Should().Be(agents);
        shares.Select(s => s.Offset).Should().Equal(shares.Select((_, i) => shares.Take(i).Sum(s => s.Count)));
    }
}
