using System.Text.Json;
using Tcm.Simulator.Reports;

namespace Tcm.Simulator.Tests.Reports;

public sealed class ReportWriterTests
{
    internal static SimulationReport Sample(bool passed = true)
    {
        var start = new DateTimeOffset(2025, 1, 2, 10, 0, 0, TimeSpan.Zero);
        return new SimulationReport
        {
            Scenario = "quickstart",
            Description = "A <small> & quick run",
            ScenarioFile = "scenarios/quickstart.yaml",
            Seed = 42,
            Agents = 100,
            StartedAt = start,
            EndedAt = start.AddSeconds(60),
            Timeline =
            [
                new TimelineEntry { Id = "start", Action = "start-agents", Trigger = "at 0s", StartedAt = 0, EndedAt = 10, Outcome = EventOutcome.Done, Agents = 100 },
                new TimelineEntry { Id = "vpn-flip", Action = "vpn-up", Trigger = "5s after ready", StartedAt = 30, Outcome = EventOutcome.Done, Agents = 30 },
            ],
            Samples = Enumerable.Range(0, 60).Select(t => new ModeSample
            {
                At = t, Running = 100, Direct = Math.Min(40, t * 4), Cem = Math.Min(60, t * 6), Offline = 100 - Math.Min(40, t * 4) - Math.Min(60, t * 6),
                Persistent = Math.Min(100, t * 10), Http = 0, OpenSockets = 150,
            }).ToArray(),
            Actions =
            [
                new ActionReport
                {
                    Id = "hello", Kind = "push-task", Command = "echo", CreatedAt = 40, Targets = 100, Delivered = 100, DeliveredOverChannel = 100, Completed = 100, Succeeded = 100,
                    DeliveredLatency = LatencySummary.From(Enumerable.Range(1, 100).Select(i => i * 3.0)),
                    CompletedLatency = LatencySummary.From(Enumerable.Range(1, 100).Select(i => i * 7.0)),
                },
            ],
            Traffic = new TrafficReport
            {
                Rows = [new TrafficRow("WiFi", "Public", "Management", 1000, 2000, 60, 0), new TrafficRow("Vpn", "Corporate", "Download", 0, 0, 0, 0)],
                HttpRequests = 10, ChannelRequests = 200, AgentHours = 100.0 / 60,
            },
            Expectations =
            [
                new ExpectationResult("vpn users stay on CEM", "both.cem >= 99% of home-vpn within 10s after vpn-flip", true, "100% (30/30) at 2s after vpn-flip"),
                new ExpectationResult("fast", "p99 delivered hello <= 1s", passed, passed ? "p99 300 ms" : "p99 1.3 s", passed ? null : "too slow"),
            ],
            Notes = ["a note"],
        };
    }

    [Fact]
    public void Json_IsValid_AndRoundTrips()
    {
        var report = Sample();
        var json = ReportWriter.ToJson(report);

        using var document = JsonDocument.Parse(json);
        document.RootElement.GetProperty("scenario").GetString().Should().Be("quickstart");
        document.RootElement.GetProperty("passed").GetBoolean().Should().BeTrue();
        document.RootElement.GetProperty("timeline")[0].GetProperty("outcome").GetString().Should().Be("Done");
        document.RootElement.GetProperty("actions")[0].GetProperty("deliveredLatency").GetProperty("p99").GetDouble().Should().Be(297);

        var back = ReportWriter.FromJson(json)!;
        back.Samples.Should().HaveCount(60);
        back.Expectations.Should().Equal(report.Expectations);
        back.Traffic.Rows.Should().Equal(report.Traffic.Rows);
    }

    [Fact]
    public void Html_IsSelfContained_WithCharts()
    {
        var html = HtmlReportWriter.Write(Sample());

        html.Should().StartWith("<!DOCTYPE html>");
        html.Should().Contain("aria-label=\"Connection mode over time\"").And.Contain("aria-label=\"Transport over time\"").And.Contain("aria-label=\"hello latency histogram\"");
        html.Should().Contain("<path class=\"area\"").And.Contain("class=\"marker\"").And.Contain("<rect class=\"bar\"");
        html.Should().Contain("A &lt;small&gt; &amp; quick run");
        html.Should().NotContain("<script").And.NotContain("src=").And.NotContain("<link");
        html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal).Should().NotContain("http://").And.NotContain("https://");
        System.Xml.Linq.XElement.Parse(ExtractFirstSvg(html)).Name.LocalName.Should().Be("svg");
    }

    [Fact]
    public void Html_ShowsAFailure()
    {
        var html = HtmlReportWriter.Write(Sample(passed: false));

        html.Should().Contain("class=\"verdict fail\"").And.Contain("too slow");
    }

    [Fact]
    public void Markdown_HasTheTables()
    {
        var md = MarkdownReportWriter.Write(Sample(passed: false));

        md.Should().StartWith("# quickstart: FAILED");
        md.Should().Contain("| ✅ | vpn users stay on CEM |").And.Contain("| ❌ | fast |");
        md.Should().Contain("## Timeline").And.Contain("## Actions").And.Contain("## Traffic").And.Contain("| WiFi | Public | Management |");
    }

    [Fact]
    public async Task WriteAll_WritesThreeFiles()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tcm-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var files = await ReportWriter.WriteAllAsync(Sample(), dir);

            files.Select(Path.GetFileName).Should().Equal("report.json", "report.md", "report.html");
            files.Should().OnlyContain(f => new FileInfo(f).Length > 500);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Latency_PercentilesAreNearestRank()
    {
        var summary = LatencySummary.From(Enumerable.Range(1, 1000).Select(i => (double)i));

        summary.P50.Should().Be(500);
        summary.P99.Should().Be(990);
        summary.Max.Should().Be(1000);
        summary.Histogram.Sum(b => b.Count).Should().Be(1000);
        summary.Histogram[^1].UpToMs.Should().BeNull();
        LatencySummary.Empty.Count.Should().Be(0);
    }

    private static string ExtractFirstSvg(string html)
    {
        var start = html.IndexOf("<svg", StringComparison.Ordinal);
        var end = html.IndexOf("</svg>", start, StringComparison.Ordinal) + "</svg>".Length;
        return html[start..end];
    }
}
