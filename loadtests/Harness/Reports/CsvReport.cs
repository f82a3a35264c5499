using System.Text;

namespace Tcm.LoadTests.Harness.Reports;

/// <summary>
/// The CSV reports, for spreadsheets and run-to-run comparison: <c>report.csv</c> with one row per scenario (its
/// iterations) and per step, and <c>gauges.csv</c> with one row per gauge (CPU per task, memory per connection, rates),
/// TCM's rows with their ratio to the baseline.
/// </summary>
internal static class CsvReport
{
    /// <summary>The header row.</summary>
    public const string Header = "test,variant,scenario,step,count,ok,fail,fail_percent,rps,min_ms,mean_ms,p50_ms,p75_ms,p95_ms,p99_ms,max_ms,bytes,duration_s";

    /// <summary>The header row of the gauges file.</summary>
    public const string GaugesHeader = "test,variant,scenario,gauge,value,unit,tcm_baseline_ratio";

    public static string Write(LoadTestReport report)
    {
        var csv = new StringBuilder();
        csv.AppendLine(Header);
        foreach (var variant in report.Variants)
        {
            foreach (var scenario in variant.Scenarios)
            {
                Row(csv, report.Test, variant.Variant, scenario.Name, "", scenario.Iterations);
                foreach (var step in scenario.Steps)
                {
                    Row(csv, report.Test, variant.Variant, scenario.Name, step.Name, step);
                }
            }
        }

        return csv.ToString();
    }

    /// <summary>The gauges file: every gauge of every scenario; a TCM gauge compared with the baseline's carries the ratio.</summary>
    public static string WriteGauges(LoadTestReport report)
    {
        var csv = new StringBuilder();
        csv.AppendLine(GaugesHeader);
        foreach (var variant in report.Variants)
        {
            foreach (var scenario in variant.Scenarios)
            {
                foreach (var gauge in scenario.Gauges)
                {
                    var ratio = variant.Variant == "tcm"
                        ? report.Ratios.FirstOrDefault(r => r.Scenario == scenario.Name && r.Metric == gauge.Name)?.Ratio
                        : null;
                    csv.AppendLine(string.Join(',', Escape(report.Test), Escape(variant.Variant), Escape(scenario.Name), Escape(gauge.Name), D(gauge.Value), Escape(gauge.Unit), ratio is { } r ? D(r) : ""));
                }
            }
        }

        return csv.ToString();
    }

    private static void Row(StringBuilder csv, string test, string variant, string scenario, string step, StepStats s)
    {
        var l = s.Ok.Latency;
        string[] cells =
        [
            Escape(test), Escape(variant), Escape(scenario), Escape(step),
            N(s.Count), N(s.Ok.Count), N(s.Fail.Count), D(s.Fail.Percent), D(s.Rps),
            D(l.MinMs), D(l.MeanMs), D(l.P50Ms), D(l.P75Ms), D(l.P95Ms), D(l.P99Ms), D(l.MaxMs),
            N(s.Ok.Bytes), D(s.DurationSeconds),
        ];
        csv.AppendLine(string.Join(',', cells));
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string D(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Escape(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
