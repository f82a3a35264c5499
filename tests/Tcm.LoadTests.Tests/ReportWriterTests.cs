using System.Text.Json;
using Tcm.LoadTests.Harness.Reports;
using Tcm.LoadTests.Harness.Statistics;
using Tcm.LoadTests.Harness.Thresholds;

namespace Tcm.LoadTests.Tests;

public sealed class ReportWriterTests
{
    internal static LoadTestReport SampleReport()
    {
        var histogram = TestHistograms.Evenly(50, 2000);

        var step = StepCollector.Build("connect", 50, 0, 0, histogram, 5, []);
        var series = Enumerable.Range(1, 5).Select(s => new TimeSeriesPoint
        {
            Seconds = s,
            Connections = s * 10,
            WorkingSetBytes = 100_000_000 + s,
            ManagedHeapBytes = 20_000_000,
            Iterations = new SeriesSample { Name = "storm", Ok = 10, P50Ms = 40, P99Ms = 90, Histogram = histogram.ToData() },
            Steps = [new SeriesSample { Name = "connect", Ok = 10, P50Ms = 40, P99Ms = 90 }],
        }).ToList();
        var scenario = new ScenarioStats
        {
            Name = "storm, \"quoted\"",
            DurationSeconds = 5,
            Iterations = step with { Name = "storm" },
            Steps = [step],
            Gauges = [new GaugeValue { Name = "server-heap-per-connection", Value = 13_312, Unit = "bytes", Description = "per connection" }],
            TimeSeries = series,
        };
        return new LoadTestReport
        {
            Test = "connect-storm",
            Description = "test <report>",
            CommandLine = "dotnet run -- connect-storm",
            StartedUtc = DateTimeOffset.UnixEpoch,
            DurationSeconds = 6,
            Variants =
            [
                new VariantReport { Variant = "baseline", Target = "bare", Scenarios = [scenario] },
                new VariantReport { Variant = "tcm", Target = "tcm", Scenarios = [scenario with { Gauges = [scenario.Gauges[0] with { Value = 19_968 }] }] },
            ],
            Thresholds = [new ThresholdResult { Variant = "baseline", Target = "connect", Text = "p99 < 1ms", Passed = false, Actual = "p99 = 99 ms" }],
        };
    }

    [Fact]
    public void Json_IsValid_AndRoundTrips()
    {
        var report = SampleReport();
        var json = JsonReport.Write(report);

        using var document = JsonDocument.Parse(json);
        document.RootElement.GetProperty("variants").GetArrayLength().Should().Be(2);
        var back = JsonReport.Read(json);
        back.Variants[0].Scenarios[0].Steps[0].Ok.Latency.P99Ms.Should().Be(report.Variants[0].Scenarios[0].Steps[0].Ok.Latency.P99Ms);
        back.Variants[0].Scenarios[0].Steps[0].Histogram.Count.Should().Be(50);
        back.Passed.Should().BeFalse();
    }

    [Fact]
    public void Html_IsSelfContained_WithSvgCharts()
    {
        var html = HtmlReport.Write(SampleReport());

        html.Should().StartWith("<!DOCTYPE html>");
        html.Should().Contain("<style>").And.Contain("<svg").And.Contain("<polyline");
        html.Should().Contain("Rate").And.Contain("Latency").And.Contain("Connections");
        html.Should().NotContain("<script").And.NotContain("http://cdn").And.NotContain("https://");
        html.Should().Contain("test &lt;report&gt;", "text is escaped");
        html.Should().Contain("FAILED");
    }

    [Fact]
    public void Csv_HasOneRowPerScenarioAndStep()
    {
        var lines = CsvReport.Write(SampleReport()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        lines[0].Should().Be(CsvReport.Header);
        lines.Should().HaveCount(1 + 2 * 2);
        lines[1].Should().StartWith("connect-storm,baseline,\"storm, \"\"quoted\"\"\",,50,50,0,0,10,");
        lines[2].Split(',').Length.Should().Be(CsvReport.Header.Split(',').Length + 1, "the quoted scenario name holds one comma");
    }

    [Fact]
    public void GaugesCsv_HasOneRowPerGauge_TcmWithItsRatioToTheBaseline()
    {
        var report = SampleReport();
        report = report with { Ratios = Ratios.Compute(report.Variants[0], report.Variants[1]) };

        var lines = CsvReport.WriteGauges(report).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        lines[0].Should().Be(CsvReport.GaugesHeader);
        lines.Should().HaveCount(3);
        lines[1].Should().EndWith(",server-heap-per-connection,13312,bytes,");
        lines[2].Should().StartWith("connect-storm,tcm,").And.EndWith(",server-heap-per-connection,19968,bytes,1.5");
    }

    [Fact]
    public void Markdown_HasTables_AndThresholds()
    {
        var md = MarkdownReport.Write(SampleReport());
        md.Should().Contain("# Load test: connect-storm").And.Contain("| connect |").And.Contain("**FAIL**").And.Contain("13 KB");
    }

    [Fact]
    public void Ratios_CompareTcmToBaseline_ByName()
    {
        var report = SampleReport();
        var rows = Ratios.Compute(report.Variants[0], report.Variants[1]);

        rows.Single(r => r.Metric == "server-heap-per-connection").Ratio.Should().BeApproximately(1.5, 1e-9);
        rows.Single(r => r.Metric == "connect p99").Ratio.Should().Be(1);
    }

    [Fact]
    public void Ratios_CompareAGatewayRun_WithTheBaselinesRunThroughItsBareRelay_WhenThereIsOne()
    {
        var scenario = SampleReport().Variants[0].Scenarios[0];
        GaugeValue Gauge(string name, double value) => new() { Name = name, Value = value, Unit = "us", Description = name };
        var direct = scenario with { Name = "push-fanout-h2", Gauges = [Gauge("server-cpu-per-task", 100)] };
        var relayed = scenario with { Name = "push-fanout-h2-gw", Gauges = [Gauge("server-cpu-per-task", 110), Gauge("relay-cpu-per-task", 40), Gauge("relay-cpu-per-relayed-message", 20)] };
        var gateway = scenario with { Name = "push-fanout-h2-gw", Gauges = [Gauge("server-cpu-per-task", 330), Gauge("gateway-cpu-per-task", 200), Gauge("gateway-cpu-per-relayed-message", 50)] };
        var tcm = new VariantReport { Variant = "tcm", Scenarios = [gateway] };

        var rows = Ratios.Compute(new VariantReport { Variant = "baseline", Scenarios = [direct, relayed] }, tcm);
        var floorOnly = Ratios.Compute(new VariantReport { Variant = "baseline", Scenarios = [direct] }, tcm);

        rows.Single(r => r.Metric == "gateway-cpu-per-relayed-message / baseline relay-cpu-per-relayed-message").Ratio.Should().BeApproximately(2.5, 1e-9);
        rows.Single(r => r.Metric == "gateway-cpu-per-task / baseline relay-cpu-per-task").Ratio.Should().BeApproximately(5, 1e-9);
        rows.Single(r => r.Metric == "server-cpu-per-task").Ratio.Should().BeApproximately(3, 1e-9, "the baseline run of the same route");
        floorOnly.Single(r => r.Metric == "server-cpu-per-task").Ratio.Should().BeApproximately(3.3, 1e-9, "without a relayed baseline run, the direct floor");
        rows.Should().NotContain(r => r.Metric == "gateway-cpu-per-task / baseline server-cpu-per-task", "behind its relay the bare server is no floor for the gateway");
        floorOnly.Single(r => r.Metric == "gateway-cpu-per-task / baseline server-cpu-per-task").Ratio.Should().BeApproximately(2, 1e-9);
        floorOnly.Should().NotContain(r => r.Metric.Contains("relay-cpu", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WriteAll_WritesEveryFile()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tcm-report-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var files = await ReportWriter.WriteAllAsync(SampleReport(), folder, CancellationToken.None);
            files.Select(Path.GetFileName).Should().BeEquivalentTo(["report.html", "report.md", "report.csv", "gauges.csv", "report.json"]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void NiceCeiling_RoundsUpToReadableTicks()
    {
        SvgChart.NiceCeiling(0.7).Should().Be(1);
        SvgChart.NiceCeiling(13).Should().Be(20);
        SvgChart.NiceCeiling(230).Should().Be(250);
        SvgChart.NiceCeiling(4100).Should().Be(5000);
    }
}
