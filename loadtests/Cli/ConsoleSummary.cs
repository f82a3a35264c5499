using Spectre.Console;
using Tcm.LoadTests.Harness.Reports;

namespace Tcm.LoadTests.Cli;

/// <summary>The end-of-run summary on the console: a table per scenario with its gauges, the thresholds and the TCM/baseline ratios.</summary>
internal static class ConsoleSummary
{
    /// <summary>Writes the summary of <paramref name="report"/> (whose files are <paramref name="files"/>) to <paramref name="output"/>.</summary>
    public static void Print(LoadTestReport report, IReadOnlyList<string> files, TextWriter output, bool plain)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = plain || Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect });
        if (plain || Console.IsOutputRedirected)
        {
            console.Profile.Width = 200;
        }

        foreach (var variant in report.Variants)
        {
            foreach (var scenario in variant.Scenarios)
            {
                console.Write(StepTable(scenario, variant.Variant));
                foreach (var gauge in scenario.Gauges)
                {
                    console.WriteLine($"  {gauge.Name}: {Format.Gauge(gauge.Value, gauge.Unit)}");
                }
            }
        }

        foreach (var threshold in report.Thresholds)
        {
            console.WriteLine($"{(threshold.Passed ? "pass" : "FAIL")}  [{threshold.Variant}] {threshold.Target}: {threshold.Text}  ({threshold.Actual})");
        }

        foreach (var row in report.Ratios)
        {
            console.WriteLine($"tcm/baseline {row.Scenario} {row.Metric}: {Format.Ratio(row.Ratio)}");
        }

        console.WriteLine($"{(report.Passed ? "PASSED" : "FAILED")}: reports in {Path.GetDirectoryName(Path.GetFullPath(files[0]))}");
    }

    private static Table StepTable(ScenarioStats scenario, string variant)
    {
        var table = new Table().Border(TableBorder.Simple).Title($"{scenario.Name} ({variant})");
        foreach (var column in new[] { "step", "count", "ok", "fail", "fail %", "rps", "p50 ms", "p99 ms", "max ms" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var step in scenario.Steps.Prepend(scenario.Iterations))
        {
            var l = step.Ok.Latency;
            table.AddRow(
                Markup.Escape(step == scenario.Iterations ? "(iteration)" : step.Name),
                step.Count.ToString("N0", CultureInfo.InvariantCulture),
                step.Ok.Count.ToString("N0", CultureInfo.InvariantCulture),
                step.Fail.Count.ToString("N0", CultureInfo.InvariantCulture),
                Format.Invariant(step.Fail.Percent, "0.##"),
                Format.Number(step.Rps),
                Format.Ms(l.P50Ms),
                Format.Ms(l.P99Ms),
                Format.Ms(l.MaxMs));
        }

        return table;
    }
}
