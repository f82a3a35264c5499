using Tcm.Protocol.Admin;
using Tcm.Simulator.Reports;

namespace Tcm.Simulator.Tests.Reports;

public sealed class WavesReportTests
{
    private static readonly DateTimeOffset RunStart = new(2025, 1, 2, 10, 0, 0, TimeSpan.Zero);

    private static WavesReport Stopped() => WavesReport.From(new ActionWaves
    {
        State = ActionWaves.Stopped,
        Plan = new WavePlan { Percent = 10, EverySeconds = 5, StopAfterFailedPercent = 2 },
        StoppedAt = RunStart.AddSeconds(30.3),
        StopReason = "stopped after wave 2 of 3: 17 of the 400 targets sent failed or timed out (4.3%), reaching the brake of 2% failed",
        Items =
        [
            new WaveStatus { Number = 1, Targets = 200, StartedAt = RunStart.AddSeconds(22.3), Counts = new Dictionary<string, int> { ["failed"] = 17, ["succeeded"] = 183 } },
            new WaveStatus { Number = 2, Targets = 200, StartedAt = RunStart.AddSeconds(27.3), Counts = new Dictionary<string, int> { ["succeeded"] = 200 } },
            new WaveStatus { Number = 3, Targets = 200, Counts = new Dictionary<string, int> { ["not-sent"] = 200 } },
        ],
    }, RunStart);

    [Fact]
    public void TheWaves_AreInSecondsIntoTheRun_WithThePlanInTheScenariosWords()
    {
        var waves = Stopped();

        waves.Plan.Should().Be("10% every 5s, stop after 2% failed");
        waves.StoppedAt.Should().Be(30.3);
        waves.Heading.Should().StartWith("10% every 5s, stop after 2% failed: stopped by the brake at 30.3s, stopped after wave 2 of 3");
        waves.Rows().Should().Equal((1, 200, "22.3s", "failed 17, succeeded 183"), (2, 200, "27.3s", "succeeded 200"), (3, 200, "not sent", "not-sent 200"));
    }

    [Fact]
    public void BothReports_ShowTheWavesOfAPushInWaves()
    {
        var sample = ReportWriterTests.Sample();
        var report = sample with { Actions = [sample.Actions[0] with { Id = "rollout", NotSent = 200, Waves = Stopped() }] };

        MarkdownReportWriter.Write(report).Should().Contain("### Waves of rollout").And.Contain("| 3 | 200 | not sent | not-sent 200 |");
        HtmlReportWriter.Write(report).Should().Contain("rollout <span class=\"muted\">waves</span>").And.Contain("<td class=\"n\">not sent</td><td>not-sent 200</td>");
    }
}
