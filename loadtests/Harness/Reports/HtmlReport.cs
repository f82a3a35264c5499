using System.Net;
using System.Text;

namespace Tcm.LoadTests.Harness.Reports;

/// <summary>
/// The HTML report: one self-contained file (inline CSS, inline SVG charts drawn here; no script, no CDN) with the verdict,
/// thresholds, the TCM/baseline ratios, and per scenario its steps, gauges and charts of rate, latency, connections and memory.
/// </summary>
internal static class HtmlReport
{
    private const string Css = """
        :root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--ok:#15803d;--bad:#b91c1c;--accent:#2563eb}
        *{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        header{background:#0f172a;color:#fff;padding:20px 32px}header h1{margin:0 0 4px;font-size:22px}header p{margin:0;color:#cbd5e1}
        main{padding:20px 32px;max-width:1280px}section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin:0 0 18px}
        h2{font-size:18px;margin:0 0 10px}h3{font-size:15px;margin:18px 0 8px}.muted{color:var(--muted)}
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
        th:first-child,td:first-child{text-align:left}th{background:#f1f5f9;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#475569}
        td.l,th.l{text-align:left;white-space:normal}.badge{display:inline-block;padding:2px 10px;border-radius:999px;font-weight:600;font-size:12px;color:#fff}
        .pass{background:var(--ok)}.fail{background:var(--bad)}.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0 4px}
        .kpi{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:150px}.kpi b{display:block;font-size:20px}.kpi span{color:var(--muted);font-size:12px}
        .charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#fff;border:1px solid var(--line);border-radius:8px}
        .chart .grid{stroke:#eef2f7}.chart .axis{stroke:#94a3b8}.chart .cl{font-size:11px;fill:#475569}.chart .ct{font-size:13px;font-weight:600;fill:#0f172a}
        code{background:#f1f5f9;padding:1px 5px;border-radius:4px}.variant{border-left:4px solid var(--accent)}
        """;

    public static string Write(LoadTestReport report)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
        html.AppendLine($"<title>{E(report.Test)}: load test report</title><style>{Css}</style></head><body>");
        html.AppendLine($"<header><h1>{E(report.Test)} <span class=\"badge {(report.Passed ? "pass" : "fail")}\">{(report.Passed ? "PASSED" : "FAILED")}</span></h1>");
        html.AppendLine($"<p>{E(report.Description)}</p></header><main>");

        var env = report.Environment;
        html.AppendLine("<section><h2>Run</h2><div class=\"kpis\">");
        Kpi(html, $"{report.StartedUtc:yyyy-MM-dd HH:mm} UTC", "started");
        Kpi(html, $"{Format.Number(report.DurationSeconds)} s", "duration");
        Kpi(html, $"{env.Cores} cores", $"{Format.Bytes(env.TotalMemoryBytes)} RAM");
        Kpi(html, env.Runtime, $"{env.Gc} GC");
        Kpi(html, $"{report.Thresholds.Count(t => t.Passed)}/{report.Thresholds.Count}", "thresholds passed");
        html.AppendLine("</div>");
        html.AppendLine($"<p class=\"muted\">Command: <code>{E(report.CommandLine)}</code><br>{E(env.Os)} on {E(env.Machine)}</p>");
        if (report.Settings.Count > 0)
        {
            html.AppendLine("<p class=\"muted\">" + string.Join(" &middot; ", report.Settings.Select(s => $"{E(s.Key)}: <b>{E(s.Value)}</b>")) + "</p>");
        }

        foreach (var note in report.Notes)
        {
            html.AppendLine($"<p class=\"muted\">Note: {E(note)}</p>");
        }

        html.AppendLine("</section>");

        html.AppendLine("<section><h2>Thresholds</h2>");
        if (report.Thresholds.Count == 0)
        {
            html.AppendLine("<p class=\"muted\">None.</p>");
        }
        else
        {
            Table(html, "<tr><th class=\"l\">result</th><th class=\"l\">variant</th><th class=\"l\">target</th><th class=\"l\">rule</th><th class=\"l\">measured</th></tr>", report.Thresholds, t =>
                $"<tr><td class=\"l\"><span class=\"badge {(t.Passed ? "pass" : "fail")}\">{(t.Passed ? "pass" : "fail")}</span></td><td class=\"l\">{E(t.Variant)}</td><td class=\"l\">{E(t.Target)}</td><td class=\"l\"><code>{E(t.Text)}</code></td><td class=\"l\">{E(t.Actual)}</td></tr>");
        }

        html.AppendLine("</section>");

        if (report.Ratios.Count > 0)
        {
            html.AppendLine("<section><h2>TCM / baseline</h2>");
            Table(html, "<tr><th class=\"l\">scenario</th><th class=\"l\">figure</th><th>baseline</th><th>tcm</th><th>ratio</th></tr>", report.Ratios, r =>
                $"<tr><td>{E(r.Scenario)}</td><td class=\"l\">{E(r.Metric)}</td><td>{E(Format.Gauge(r.Baseline, r.Unit))}</td><td>{E(Format.Gauge(r.Tcm, r.Unit))}</td><td><b>{E(Format.Ratio(r.Ratio))}</b></td></tr>");
            html.AppendLine("</section>");
        }

        foreach (var variant in report.Variants)
        {
            foreach (var scenario in variant.Scenarios)
            {
                WriteScenario(html, variant, scenario);
            }
        }

        html.AppendLine("<p class=\"muted\">Latencies from a log-bucket histogram (relative error under 1%). Rates and latencies over time are per one-second interval.</p>");
        html.AppendLine("</main></body></html>");
        return html.ToString();
    }

    private static void WriteScenario(StringBuilder html, VariantReport variant, ScenarioStats scenario)
    {
        html.AppendLine($"<section class=\"variant\"><h2>{E(scenario.Name)} <span class=\"muted\">&middot; {E(variant.Variant)}</span></h2>");
        html.AppendLine($"<p class=\"muted\">{E(variant.Target)}; measured {Format.Number(scenario.DurationSeconds)} s over {scenario.Shards} process(es){(scenario.StopReason is null ? "" : "; stopped: " + E(scenario.StopReason))}</p>");
        html.AppendLine("<div class=\"kpis\">");
        var it = scenario.Iterations;
        Kpi(html, Format.Number(it.Ok.Count), "ok");
        Kpi(html, Format.Number(it.Fail.Count), $"fail ({Format.Invariant(it.Fail.Percent, "0.##")} %)");
        Kpi(html, Format.Number(it.Rps), "iterations/s");
        Kpi(html, Format.Ms(it.Ok.Latency.P99Ms) + " ms", "iteration p99");
        foreach (var gauge in scenario.Gauges.Take(6))
        {
            Kpi(html, Format.Gauge(gauge.Value, gauge.Unit), gauge.Name);
        }

        html.AppendLine("</div>");

        html.AppendLine("<h3>Steps</h3><table><tr><th class=\"l\">step</th><th>count</th><th>ok</th><th>fail</th><th>fail %</th><th>rps</th><th>min</th><th>mean</th><th>p50</th><th>p75</th><th>p95</th><th>p99</th><th>max</th><th>bytes</th></tr>");
        Row(html, "(iteration)", it);
        foreach (var step in scenario.Steps)
        {
            Row(html, step.Name, step);
        }

        html.AppendLine("</table><p class=\"muted\">Latencies in milliseconds.</p>");

        if (scenario.Gauges.Count > 0)
        {
            html.AppendLine("<h3>Gauges</h3>");
            Table(html, "<tr><th class=\"l\">gauge</th><th>value</th><th class=\"l\">meaning</th></tr>", scenario.Gauges, g =>
                $"<tr><td>{E(g.Name)}</td><td>{E(Format.Gauge(g.Value, g.Unit))}</td><td class=\"l\">{E(g.Description)}</td></tr>");
        }

        var failures = scenario.Steps.Prepend(it).SelectMany(s => s.Fail.Messages.Select(m => (s.Name, m))).Take(10).ToList();
        if (failures.Count > 0)
        {
            html.AppendLine("<h3>Failures</h3>");
            Table(html, "<tr><th class=\"l\">step</th><th class=\"l\">message</th><th>count</th></tr>", failures, f =>
                $"<tr><td>{E(f.Name)}</td><td class=\"l\">{E(f.m.Message)}</td><td>{f.m.Count}</td></tr>");
        }

        html.AppendLine("<h3>Over time</h3><div class=\"charts\">");
        foreach (var chart in Charts(scenario))
        {
            html.AppendLine(chart);
        }

        html.AppendLine("</div></section>");
    }

    /// <summary>The four charts of a scenario: rate, latency, connections, memory.</summary>
    internal static IReadOnlyList<string> Charts(ScenarioStats scenario)
    {
        var ts = scenario.TimeSeries;
        var samples = new List<(string Name, Func<TimeSeriesPoint, SeriesSample?> Pick)> { ("iterations", p => p.Iterations) };
        samples.AddRange(scenario.Steps.Select(s => (s.Name, (Func<TimeSeriesPoint, SeriesSample?>)(p => p.Steps.FirstOrDefault(x => x.Name == s.Name)))));

        var rate = new List<ChartSeries>();
        var latency = new List<ChartSeries>();
        foreach (var (name, pick) in samples)
        {
            var ok = ts.Select(p => (p.Seconds, (pick(p)?.Ok ?? 0) / Math.Max(p.IntervalSeconds, 1e-3))).ToList();
            if (ok.Any(p => p.Item2 > 0))
            {
                rate.Add(new ChartSeries($"{name} ok/s", ok));
            }

            var fail = ts.Select(p => (p.Seconds, (pick(p)?.Fail ?? 0) / Math.Max(p.IntervalSeconds, 1e-3))).ToList();
            if (fail.Any(p => p.Item2 > 0))
            {
                rate.Add(new ChartSeries($"{name} fail/s", fail, Dashed: true));
            }

            var withData = ts.Where(p => pick(p) is { Ok: > 0 }).ToList();
            if (withData.Count > 0)
            {
                latency.Add(new ChartSeries($"{name} p99", withData.Select(p => (p.Seconds, pick(p)!.P99Ms)).ToList()));
                latency.Add(new ChartSeries($"{name} p50", withData.Select(p => (p.Seconds, pick(p)!.P50Ms)).ToList(), Dashed: true));
            }
        }

        return
        [
            SvgChart.Line("Rate", "seconds", "per second", rate),
            SvgChart.Line("Latency", "seconds", "ms", latency.Take(8).ToList(), v => Format.Ms(v)),
            SvgChart.Line("Connections", "seconds", "open", [new ChartSeries("connections", ts.Select(p => (p.Seconds, p.Connections)).ToList())]),
            SvgChart.Line("Load generator memory", "seconds", "MB",
            [
                new ChartSeries("working set", ts.Select(p => (p.Seconds, p.WorkingSetBytes / 1048576.0)).ToList()),
                new ChartSeries("managed heap", ts.Select(p => (p.Seconds, p.ManagedHeapBytes / 1048576.0)).ToList(), Dashed: true),
            ]),
        ];
    }

    private static void Row(StringBuilder html, string name, StepStats s)
    {
        var l = s.Ok.Latency;
        html.AppendLine($"<tr><td>{E(name)}</td><td>{s.Count:N0}</td><td>{s.Ok.Count:N0}</td><td>{s.Fail.Count:N0}</td><td>{Format.Invariant(s.Fail.Percent, "0.##")}</td><td>{Format.Number(s.Rps)}</td>" +
                        $"<td>{Format.Ms(l.MinMs)}</td><td>{Format.Ms(l.MeanMs)}</td><td>{Format.Ms(l.P50Ms)}</td><td>{Format.Ms(l.P75Ms)}</td><td>{Format.Ms(l.P95Ms)}</td><td><b>{Format.Ms(l.P99Ms)}</b></td><td>{Format.Ms(l.MaxMs)}</td><td>{Format.Bytes(s.Ok.Bytes)}</td></tr>");
    }

    /// <summary>A table: the header row, then one row per item.</summary>
    private static void Table<T>(StringBuilder html, string header, IEnumerable<T> items, Func<T, string> row)
    {
        html.AppendLine("<table>" + header);
        foreach (var item in items)
        {
            html.AppendLine(row(item));
        }

        html.AppendLine("</table>");
    }

    private static void Kpi(StringBuilder html, string value, string label) =>
        html.AppendLine($"<div class=\"kpi\"><b>{E(value)}</b><span>{E(label)}</span></div>");

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
}
