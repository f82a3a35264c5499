using Tcm.LoadTests.Harness.Statistics;
using Tcm.LoadTests.Harness.Thresholds;

namespace Tcm.LoadTests.Tests;

public sealed class ThresholdTests
{
    private static ScenarioStats Scenario()
    {
        var histogram = TestHistograms.Evenly(100, 1000); // 1..100 ms

        var connect = StepCollector.Build("connect", 99, 1, 4096, histogram, 10, [new FailMessage("refused", 1)]);
        return new ScenarioStats
        {
            Name = "connect-storm-h1",
            DurationSeconds = 10,
            Iterations = connect with { Name = "connect-storm-h1" },
            Steps = [connect],
            Gauges =
            [
                new GaugeValue { Name = "time-to-all-connected", Value = 4.2, Unit = "s" },
                new GaugeValue { Name = "server-heap-per-connection", Value = 13_000, Unit = "bytes" },
            ],
        };
    }

    [Theory]
    [InlineData("connect: p99 < 250ms", true)]
    [InlineData("connect: p99 < 50ms", false)]
    [InlineData("connect: p99 <= 0.1s", true)]
    [InlineData("connect: fail% < 0.1", false)]
    [InlineData("connect: fail% <= 1", true)]
    [InlineData("rps > 9", true)]
    [InlineData("rps > 100", false)]
    [InlineData("connect-storm-h1/connect: count == 100", true)]
    [InlineData("connect: bytes >= 4KB", true)]
    [InlineData("time-to-all-connected < 60s", true)]
    [InlineData("time-to-all-connected < 4000ms", false)]
    [InlineData("connect-storm-h1: server-heap-per-connection < 20KB", true)]
    [InlineData("server-heap-per-connection < 10KB", false)]
    public void Parsed_Rules_EvaluateAgainstStatistics(string text, bool passes)
    {
        var results = Threshold.Parse(text).Evaluate([Scenario()], "baseline");

        results.Should().NotBeEmpty();
        results.Should().OnlyContain(r => r.Passed == passes, because: string.Join("; ", results.Select(r => r.Actual)));
    }

    [Fact]
    public void Lambda_Rule_SeesStepStatistics()
    {
        var result = Threshold.Create("connect", s => s.Fail.Percent < 0.1).Evaluate([Scenario()]).Single();

        result.Passed.Should().BeFalse();
        result.Target.Should().Be("connect-storm-h1/connect");
    }

    [Fact]
    public void Rule_ForAnUnknownTarget_Fails_AndSaysWhatExists()
    {
        var result = Threshold.Parse("conect: p99 < 1s").Evaluate([Scenario()]).Single();

        result.Passed.Should().BeFalse();
        result.Actual.Should().Contain("no scenario or step named 'conect'").And.Contain("connect-storm-h1/connect");
    }

    [Fact]
    public void Rule_OnAnUnknownGauge_Fails()
    {
        var result = Threshold.Parse("no-such-gauge < 5").Evaluate([Scenario()]).Single();
        result.Passed.Should().BeFalse();
        result.Actual.Should().Contain("no metric or gauge");
    }

    [Theory]
    [InlineData("p99 250ms")]
    [InlineData("p99 < fast")]
    [InlineData("p99 < 250parsecs")]
    [InlineData("p99 < 2KB")]
    [InlineData("")]
    public void Malformed_Rules_AreRejected_WithAClearMessage(string text)
    {
        var act = () => Threshold.Parse(text);
        act.Should().Throw<FormatException>().Which.Message.Should().Contain(text.Length == 0 ? "Cannot read threshold" : text);
    }

    [Fact]
    public void Text_IsCanonical()
    {
        Threshold.Parse("  connect :p99<250ms ").Text.Should().Be("connect: p99 < 250ms");
    }
}
