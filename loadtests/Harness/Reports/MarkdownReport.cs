using System.Text;

namespace Tcm.LoadTests.Harness.Reports;

/// <summary>The Markdown report: summary tables for a pull request or docs/benchmarks.md.</summary>
internal static class MarkdownReport
{
    public static string Write(LoadTestReport report)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Load test: {report.Test}");
        md.AppendLine();
        md.AppendLine(report.Description);
        md.AppendLine();
        md.AppendLine($"- result: **{(report.Passed ? "passed" : "FAILED")}** ({report.Thresholds.Count(t => t.Passed)}/{report.Thresholds.Count} thresholds)");
        md.AppendLine($"- command: `{report.CommandLine}`");
        md.AppendLine($"- started: {report.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC, {Format.Number(report.DurationSeconds)} s");
        var env = report.Environment;
        md.AppendLine($"- machine: {env.Cores} cores, {Format.Bytes(env.TotalMemoryBytes)}, {env.Os}, {env.Runtime}, {env.Gc} GC");
        foreach (var (key, value) in report.Settings)
        {
            md.AppendLine($"- {key}: {value}");
        }

        foreach (var note in report.Notes)
        {
            md.AppendLine($"- note: {note}");
        }

        foreach (var variant in report.Variants)
        {
            md.AppendLine();
            md.AppendLine($"## Variant: {variant.Variant}");
            md.AppendLine();
            md.AppendLine($"{variant.Target}; {variant.Processes} process(es), {Format.Number(variant.DurationSeconds)} s{(variant.StopReason is null ? "" : $", stopped: {variant.StopReason}")}.");
            foreach (var scenario in variant.Scenarios)
            {
                md.AppendLine();
                md.AppendLine($"### {scenario.Name}");
                md.AppendLine();
                md.AppendLine($"Measured {Format.Number(scenario.DurationSeconds)} s{(scenario.StopReason is null ? "" : $" (stopped: {scenario.StopReason})")}.");
                md.AppendLine();
                md.AppendLine("| step | count | ok | fail | fail % | rps | min ms | mean ms | p50 ms | p75 ms | p95 ms | p99 ms | max ms | bytes |");
                md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
                AppendRow(md, "(iteration)", scenario.Iterations);
                foreach (var step in scenario.Steps)
                {
                    AppendRow(md, step.Name, step);
                }

                if (scenario.Gauges.Count > 0)
                {
                    md.AppendLine();
                    md.AppendLine("| gauge | value | meaning |");
                    md.AppendLine("| --- | ---: | --- |");
                    foreach (var gauge in scenario.Gauges)
                    {
                        md.AppendLine($"| {gauge.Name} | {Format.Gauge(gauge.Value, gauge.Unit)} | {gauge.Description} |");
                    }
                }

                var failures = scenario.Steps.Prepend(scenario.Iterations).SelectMany(s => s.Fail.Messages.Select(m => (s.Name, m))).Take(10).ToList();
                if (failures.Count > 0)
                {
                    md.AppendLine();
                    md.AppendLine("Failures: " + string.Join("; ", failures.Select(f => $"{f.Name}: {f.m.Message} (x{f.m.Count})")));
                }
            }
        }

        if (report.Ratios.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## TCM / baseline");
            md.AppendLine();
            md.AppendLine("| scenario | figure | baseline | tcm | ratio |");
            md.AppendLine("| --- | --- | ---: | ---: | ---: |");
            foreach (var row in report.Ratios)
            {
                md.AppendLine($"| {row.Scenario} | {row.Metric} | {Format.Gauge(row.Baseline, row.Unit)} | {Format.Gauge(row.Tcm, row.Unit)} | {Format.Ratio(row.Ratio)} |");
            }
        }

        md.AppendLine();
        md.AppendLine("## Thresholds");
        md.AppendLine();
        if (report.Thresholds.Count == 0)
        {
            md.AppendLine("None.");
        }
        else
        {
            md.AppendLine("| result | variant | target | rule | measured |");
            md.AppendLine("| --- | --- | --- | --- | --- |");
            foreach (var t in report.Thresholds)
            {
                md.AppendLine($"| {(t.Passed ? "pass" : "**FAIL**")} | {t.Variant} | {t.Target} | `{t.Text}` | {t.Actual} |");
            }
        }

        return md.ToString();
    }

    private static void AppendRow(StringBuilder md, string name, StepStats s)
    {
        var l = s.Ok.Latency;
        md.AppendLine($"| {name} | {s.Count:N0} | {s.Ok.Count:N0} | {s.Fail.Count:N0} | {Format.Invariant(s.Fail.Percent, "0.##")} | {Format.Number(s.Rps)} | " +
                      $"{Format.Ms(l.MinMs)} | {Format.Ms(l.MeanMs)} | {Format.Ms(l.P50Ms)} | {Format.Ms(l.P75Ms)} | {Format.Ms(l.P95Ms)} | {Format.Ms(l.P99Ms)} | {Format.Ms(l.MaxMs)} | {Format.Bytes(s.Ok.Bytes)} |");
    }
}
