using System.Globalization;
using System.Text;
using Tcm.Simulator.Scenarios;
using static Tcm.Simulator.Reports.SvgCharts;

namespace Tcm.Simulator.Reports;

/// <summary>
/// <c>report.html</c>: one self-contained page (inline CSS, inline SVG, no script, no downloads) that works offline and in a
/// CI artifact viewer. Sections: verdict and key figures, expectations, connection mode and transport over time with the
/// timeline's events marked, per-action latency histograms, the timeline, traffic per adapter/destination/purpose, notes.
/// </summary>
internal static class HtmlReportWriter
{
    private static readonly Plotted[] ModeSeries =
    [
        new("Direct", "var(--direct)", s => s.Direct),
        new("CEM", "var(--cem)", s => s.Cem),
        new("Offline", "var(--offline)", s => s.Offline),
    ];

    private static readonly Plotted[] TransportSeries =
    [
        new("Persistent", "var(--persistent)", s => s.Persistent),
        new("HTTP polling", "var(--http)", s => s.Http),
    ];

    private static Series[] SeriesOf(Plotted[] table, IReadOnlyList<ModeSample> samples) =>
        table.Select(x => new Series(x.Label, x.Color, samples.Select(s => (double)x.Count(s)).ToArray())).ToArray();

    public static string Write(SimulationReport r)
    {
        var sb = new StringBuilder(64 * 1024);
        var passed = r.Expectations.Count(e => e.Passed);
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Append(CultureInfo.InvariantCulture, $"<title>{Esc(r.Scenario)} — {(r.Passed ? "passed" : "FAILED")} — TCM fleet simulator</title>");
        sb.Append("<style>").Append(Css).Append("</style></head><body>");

        // :: header and verdict
        sb.Append("<header><div class=\"title\"><div class=\"kicker\">TCM fleet simulator · scenario report</div>");
        sb.Append(CultureInfo.InvariantCulture, $"<h1>{Esc(r.Scenario)}</h1>");
        if (r.Description is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<p class=\"lead\">{Esc(r.Description)}</p>");
        }

        sb.Append("</div>");
        sb.Append(CultureInfo.InvariantCulture, $"<div class=\"verdict {(r.Passed ? "pass" : "fail")}\"><span>{(r.Passed ? "PASSED" : "FAILED")}</span><small>{passed}/{r.Expectations.Count} expectations held</small></div>");
        sb.Append("</header><main>");

        sb.Append("<dl class=\"meta\">");
        Meta(sb, "agents", ReportWriter.Number(r.Agents) + (r.Shard is null ? "" : $" (shard {r.Shard})") + (r.Legacy ? " · legacy polling" : ""));
        Meta(sb, "seed", r.Seed.ToString(CultureInfo.InvariantCulture));
        Meta(sb, "system", r.System);
        Meta(sb, "started", r.StartedAt.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        Meta(sb, "ran for", $"{DurationText.Format(TimeSpan.FromSeconds(Math.Round(r.Duration.TotalSeconds, 1)))} ({r.EndReason})");
        if (r.ScenarioFile is not null)
        {
            Meta(sb, "file", r.ScenarioFile);
        }

        sb.Append("</dl>");

        // :: key figures
        sb.Append("<section class=\"cards\">");
        var last = r.Samples.Count > 0 ? r.Samples[^1] : null;
        var peakPersistent = r.Samples.Count > 0 ? r.Samples.Max(s => s.Persistent) : 0;
        Card(sb, "persistent at peak", ReportWriter.Percent(peakPersistent, r.Agents), $"{ReportWriter.Number(peakPersistent)} agents");
        if (last is not null)
        {
            Card(sb, "mode at end", $"{ReportWriter.Percent(last.Direct, r.Agents)} / {ReportWriter.Percent(last.Cem, r.Agents)}", "direct / CEM");
        }

        if (r.Actions.Count > 0)
        {
            var worst = r.Actions.MaxBy(a => a.DeliveredLatency.P99)!;
            Card(sb, "worst p99 delivered", ReportWriter.Ms(worst.DeliveredLatency.P99), worst.Id);
            var completed = r.Actions.Sum(a => a.Completed);
            var targets = r.Actions.Sum(a => a.Targets);
            Card(sb, "results stored", ReportWriter.Percent(completed, targets), $"{ReportWriter.Number(completed)} of {ReportWriter.Number(targets)}");
        }

        Card(sb, "requests / agent-hour", r.Traffic.RequestsPerAgentHour.ToString("0.#", CultureInfo.InvariantCulture),
            r.LegacyTraffic is { } lt ? $"legacy {lt.RequestsPerAgentHour.ToString("0.#", CultureInfo.InvariantCulture)} ({MarkdownReportWriter.Ratio(lt.RequestsPerAgentHour, r.Traffic.RequestsPerAgentHour)} fewer)" : $"{ReportWriter.Number(r.Traffic.Requests)} requests");
        Card(sb, "package bytes over VPN", DurationText.FormatBytes(r.Traffic.VpnPackageBytes), r.Traffic.VpnPackageBytes == 0 ? "none, as it should be" : "downloads left over the VPN", r.Traffic.VpnPackageBytes > 0);
        sb.Append("</section>");

        // :: expectations
        sb.Append("<section><h2>Expectations</h2><table class=\"expect\"><thead><tr><th></th><th>name</th><th>expectation</th><th>observed</th></tr></thead><tbody>");
        foreach (var e in r.Expectations)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"<tr class=\"{(e.Passed ? "ok" : "bad")}\"><td><span class=\"badge {(e.Passed ? "pass" : "fail")}\">{(e.Passed ? "held" : "failed")}</span></td><td>{Esc(e.Name)}</td><td><code>{Esc(e.Text)}</code></td><td>{Esc(e.Observed)}{(e.Detail is null ? "" : $"<div class=\"detail\">{Esc(e.Detail)}</div>")}</td></tr>");
        }

        if (r.Expectations.Count == 0)
        {
            sb.Append("<tr><td colspan=\"4\" class=\"muted\">The scenario has no expectations.</td></tr>");
        }

        sb.Append("</tbody></table></section>");

        // :: charts over time
        if (r.Samples.Count > 0)
        {
            var times = r.Samples.Select(s => s.At).ToArray();
            var markers = r.Timeline.Where(t => t.StartedAt is not null)
                .Select(t => new Marker(t.StartedAt!.Value, t.Id, $"{t.Id}: {t.Action} ({t.Trigger}) at {ReportWriter.Seconds(t.StartedAt)}, {t.Outcome}"))
                .ToArray();
            sb.Append("<section><h2>Connection mode over time</h2><p class=\"muted\">How each agent reaches its Notification Server: directly, through the CEM gateway, or not at all. Dashed lines are timeline events.</p>");
            sb.Append(StackedArea("Connection mode over time", times, SeriesOf(ModeSeries, r.Samples), r.Agents, markers));
            sb.Append("</section><section><h2>Transport over time</h2><p class=\"muted\">Persistent WebSocket channel versus HTTP polling (agents reaching no server are not shown).</p>");
            sb.Append(StackedArea("Transport over time", times, SeriesOf(TransportSeries, r.Samples), r.Agents, markers));
            sb.Append("</section>");
        }

        // :: actions
        if (r.Actions.Count > 0)
        {
            sb.Append("<section><h2>Actions</h2><table><thead><tr><th>action</th><th>kind</th><th class=\"n\">targets</th><th class=\"n\">delivered</th><th class=\"n\">via channel</th><th class=\"n\">completed</th><th class=\"n\">failed</th><th class=\"n\">duplicates</th><th class=\"n\">p50 / p99 delivered</th><th class=\"n\">p50 / p99 completed</th></tr></thead><tbody>");
            foreach (var a in r.Actions)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"<tr><td>{Esc(a.Id)}</td><td>{Esc(a.Kind)}{(a.Command is null ? "" : $" <code>{Esc(a.Command)}</code>")}</td><td class=\"n\">{a.Targets}</td><td class=\"n\">{a.Delivered}</td><td class=\"n\">{a.DeliveredOverChannel}</td><td class=\"n\">{a.Completed}</td><td class=\"n\">{a.Failed + a.TimedOut}</td><td class=\"n{(a.Duplicates > 0 ? " warn" : "")}\">{a.Duplicates}</td><td class=\"n\">{ReportWriter.Ms(a.DeliveredLatency.P50)} / {ReportWriter.Ms(a.DeliveredLatency.P99)}</td><td class=\"n\">{ReportWriter.Ms(a.CompletedLatency.P50)} / {ReportWriter.Ms(a.CompletedLatency.P99)}</td></tr>");
            }

            sb.Append("</tbody></table>");
            foreach (var a in r.Actions.Where(a => a.Waves is not null))
            {
                sb.Append(CultureInfo.InvariantCulture, $"<h3>{Esc(a.Id)} <span class=\"muted\">waves</span></h3><p>{Esc(a.Waves!.Heading)}</p>");
                sb.Append("<table><thead><tr><th class=\"n\">wave</th><th class=\"n\">targets</th><th class=\"n\">sent at</th><th>states</th></tr></thead><tbody>");
                foreach (var (wave, targets, sentAt, states) in a.Waves.Rows())
                {
                    sb.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"n\">{wave}</td><td class=\"n\">{targets}</td><td class=\"n\">{Esc(sentAt)}</td><td>{Esc(states)}</td></tr>");
                }

                sb.Append("</tbody></table>");
            }

            foreach (var a in r.Actions)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<h3>{Esc(a.Id)} <span class=\"muted\">latency</span></h3>");
                sb.Append(Histogram($"{a.Id} latency histogram",
                [
                    ("delivered", "var(--persistent)", a.DeliveredLatency),
                    ("completed", "var(--cem)", a.CompletedLatency),
                ]));
            }

            sb.Append("</section>");
        }

        // :: timeline
        sb.Append("<section><h2>Timeline</h2><table><thead><tr><th class=\"n\">at</th><th>event</th><th>action</th><th>trigger</th><th>select</th><th class=\"n\">agents</th><th>outcome</th></tr></thead><tbody>");
        foreach (var t in r.Timeline)
        {
            var outcomeClass = t.Outcome switch
            {
                EventOutcome.Done => "pass",
                EventOutcome.TimedOut or EventOutcome.Failed => "fail",
                _ => "neutral",
            };
            sb.Append(CultureInfo.InvariantCulture,
                $"<tr><td class=\"n\">{ReportWriter.Seconds(t.StartedAt)}</td><td>{Esc(t.Id)}</td><td><code>{Esc(t.Action)}</code></td><td>{Esc(t.Trigger)}</td><td>{Esc(t.Selection)}</td><td class=\"n\">{t.Agents}</td><td><span class=\"badge {outcomeClass}\">{t.Outcome}</span>{(t.Detail is null ? "" : $" <span class=\"muted\">{Esc(t.Detail)}</span>")}</td></tr>");
        }

        sb.Append("</tbody></table></section>");

        if (r.Reconnects.Count > 0)
        {
            sb.Append("<section><h2>Reconnects</h2><p class=\"muted\">Agents not reconnected when the event happened, and how long each took until every connection it has was persistent again.</p>");
            sb.Append("<table><thead><tr><th>after</th><th class=\"n\">at</th><th class=\"n\">agents</th><th class=\"n\">reconnected</th><th class=\"n\">p50</th><th class=\"n\">p90</th><th class=\"n\">p99</th><th class=\"n\">last</th><th class=\"n\">peak / s</th><th>per second after the event</th></tr></thead><tbody>");
            foreach (var c in r.Reconnects)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"<tr><td>{Esc(c.EventId)}</td><td class=\"n\">{ReportWriter.Seconds(c.At)}</td><td class=\"n\">{c.Agents}</td><td class=\"n\">{c.Reconnected}</td><td class=\"n\">{c.P50:0.0} s</td><td class=\"n\">{c.P90:0.0} s</td><td class=\"n\">{c.P99:0.0} s</td><td class=\"n\">{c.Max:0.0} s</td><td class=\"n\">{c.PeakPerSecond}</td><td>{Esc(ReportWriter.Spread(c))}</td></tr>");
            }

            sb.Append("</tbody></table></section>");
        }

        // :: traffic
        sb.Append("<section><h2>Traffic</h2>");
        Traffic(sb, r.Traffic);
        if (r.LegacyTraffic is { } legacy)
        {
            sb.Append("<h3>Legacy run (pure HTTP polling), same fleet</h3>");
            Traffic(sb, legacy);
        }

        sb.Append("</section>");

        if (r.Process is { } p)
        {
            sb.Append("<section><h2>Simulator process</h2><table><thead><tr><th>agents running (persistent)</th><th>managed per agent</th><th>working set per agent</th><th>peak open sockets</th><th>CPU</th><th>servers in process</th></tr></thead><tbody>");
            sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{p.AgentsRunning} ({p.AgentsPersistent})</td><td>{p.ManagedBytesPerAgent / 1024:0.0} KB</td><td>{p.WorkingSetPerAgent / 1024:0.0} KB</td><td>{p.PeakOpenSockets}</td><td>{p.CpuSeconds:0.0} s</td><td>{(p.ServersInProcess ? "yes: figures include the servers' side" : "no: the agents alone")}</td></tr></tbody></table>");
            sb.Append(CultureInfo.InvariantCulture, $"<p>Live heap after a full compacting collection, {Esc(p.MeasuredWhen)}.</p></section>");
        }

        if (r.Notes.Count > 0)
        {
            sb.Append("<section><h2>Notes</h2><ul>");
            foreach (var note in r.Notes)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<li>{Esc(note)}</li>");
            }

            sb.Append("</ul></section>");
        }

        sb.Append("</main><footer>Generated by the TCM fleet simulator · report.json holds the same data for tools</footer></body></html>");
        return sb.ToString();
    }

    private static void Traffic(StringBuilder sb, TrafficReport t)
    {
        sb.Append(CultureInfo.InvariantCulture,
            $"<p class=\"muted\">{ReportWriter.Number(t.Requests)} requests ({ReportWriter.Number(t.HttpRequests)} HTTP, {ReportWriter.Number(t.ChannelRequests)} over the channel) · {DurationText.FormatBytes(t.BytesSent)} sent · {DurationText.FormatBytes(t.BytesReceived)} received · {ReportWriter.Number(t.Unreachable)} unreachable connects · {t.AgentHours.ToString("0.##", CultureInfo.InvariantCulture)} agent-hours</p>");
        sb.Append("<table><thead><tr><th>adapter</th><th>destination</th><th>purpose</th><th class=\"n\">sent</th><th class=\"n\">received</th><th class=\"n\">connections</th><th class=\"n\">unreachable</th></tr></thead><tbody>");
        foreach (var row in t.Rows)
        {
            var vpnDownload = row.Adapter == "Vpn" && row.Purpose == "Download";
            sb.Append(CultureInfo.InvariantCulture,
                $"<tr{(vpnDownload ? " class=\"bad\"" : "")}><td>{Esc(row.Adapter)}</td><td>{Esc(row.Destination)}</td><td>{Esc(row.Purpose)}</td><td class=\"n\">{DurationText.FormatBytes(row.BytesSent)}</td><td class=\"n\">{DurationText.FormatBytes(row.BytesReceived)}</td><td class=\"n\">{ReportWriter.Number(row.Connections)}</td><td class=\"n\">{ReportWriter.Number(row.Unreachable)}</td></tr>");
        }

        if (t.Rows.Count == 0)
        {
            sb.Append("<tr><td colspan=\"7\" class=\"muted\">No traffic recorded.</td></tr>");
        }

        sb.Append("</tbody></table>");
        if (t.RequestsByKind.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<p class=\"muted\">Requests by kind: {Esc(ReportWriter.ByKind(t))}</p>");
        }

        if (t.Groups.Count > 0)
        {
            sb.Append("<h3>By group</h3><table><thead><tr><th>group</th><th class=\"n\">requests</th><th class=\"n\">per agent-hour</th><th class=\"n\">bytes (no downloads)</th><th class=\"n\">corporate</th><th class=\"n\">public</th><th class=\"n\">VPN</th><th class=\"n\">downloads</th></tr></thead><tbody>");
            foreach (var (name, g) in t.Groups.OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var f = ReportWriter.GroupFigures(g);
                sb.Append(CultureInfo.InvariantCulture,
                    $"<tr><td>{Esc(name)}</td><td class=\"n\">{ReportWriter.Number(g.Requests)}</td><td class=\"n\">{g.RequestsPerAgentHour.ToString("0.#", CultureInfo.InvariantCulture)}</td><td class=\"n\">{DurationText.FormatBytes(g.BytesSent + g.BytesReceived)}</td><td class=\"n\">{f.Corporate}</td><td class=\"n\">{f.Public}</td><td class=\"n\">{f.Vpn}</td><td class=\"n\">{f.Downloads}</td></tr>");
            }

            sb.Append("</tbody></table>");
        }
    }

    private static void Meta(StringBuilder sb, string name, string value) =>
        sb.Append(CultureInfo.InvariantCulture, $"<div><dt>{Esc(name)}</dt><dd>{Esc(value)}</dd></div>");

    private static void Card(StringBuilder sb, string name, string value, string note, bool bad = false) =>
        sb.Append(CultureInfo.InvariantCulture, $"<div class=\"card{(bad ? " bad" : "")}\"><div class=\"label\">{Esc(name)}</div><div class=\"value\">{Esc(value)}</div><div class=\"note\">{Esc(note)}</div></div>");

    private const string Css = """
        :root{--bg:#f6f7f9;--panel:#fff;--ink:#1d2330;--muted:#667085;--line:#e3e6eb;--accent:#3559e0;
        --direct:#3b82f6;--cem:#14b8a6;--offline:#cbd5e1;--persistent:#6366f1;--http:#f59e0b;--pass:#15803d;--passbg:#dcfce7;--fail:#b91c1c;--failbg:#fee2e2}
        @media (prefers-color-scheme:dark){:root{--bg:#0f131a;--panel:#171c25;--ink:#e6e9ef;--muted:#98a2b3;--line:#2a3140;
        --offline:#475569;--passbg:#12351f;--failbg:#3f1515;--pass:#4ade80;--fail:#f87171}}
        *{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        header{display:flex;justify-content:space-between;align-items:center;gap:24px;padding:28px 40px;background:var(--panel);border-bottom:1px solid var(--line)}
        .kicker{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.08em}h1{margin:4px 0;font-size:26px}.lead{margin:0;color:var(--muted);max-width:70ch}
        .verdict{display:flex;flex-direction:column;align-items:center;padding:14px 26px;border-radius:12px;font-weight:700;font-size:22px;letter-spacing:.05em}
        .verdict small{font-weight:500;font-size:12px;letter-spacing:0}.verdict.pass{background:var(--passbg);color:var(--pass)}.verdict.fail{background:var(--failbg);color:var(--fail)}
        main{max-width:1100px;margin:0 auto;padding:24px 40px 48px}section{background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:18px 22px;margin:18px 0}
        h2{margin:0 0 10px;font-size:17px}h3{font-size:14px;margin:18px 0 6px}.muted{color:var(--muted)}
        .meta{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0}.meta dt{color:var(--muted);font-size:12px}.meta dd{margin:0;font-weight:600}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;background:none;border:0;padding:0}
        .card{background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:14px 16px}.card.bad{border-color:var(--fail)}
        .card .label{color:var(--muted);font-size:12px}.card .value{font-size:22px;font-weight:700;margin:2px 0}.card .note{color:var(--muted);font-size:12px}
        table{width:100%;border-collapse:collapse;font-size:13px}th{text-align:left;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);padding:6px 8px}
        td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top}.n{text-align:right;font-variant-numeric:tabular-nums}td.warn{color:var(--fail);font-weight:700}
        tr.bad td{background:var(--failbg)}code{font:12px ui-monospace,SFMono-Regular,Consolas,monospace;background:var(--bg);padding:1px 5px;border-radius:4px}
        .badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600}.badge.pass{background:var(--passbg);color:var(--pass)}
        .badge.fail{background:var(--failbg);color:var(--fail)}.badge.neutral{background:var(--bg);color:var(--muted)}.detail{color:var(--muted);font-size:12px}
        svg.chart{width:100%;height:auto;display:block}svg .grid{stroke:var(--line);stroke-width:1}svg .tick{stroke:var(--muted)}svg .frame{fill:none;stroke:var(--line)}
        svg .axis,svg .legend{fill:var(--muted);font-size:11px}svg .legend{fill:var(--ink);font-size:12px}svg .area{opacity:.9}svg .area:hover,svg .bar:hover{opacity:1;stroke:var(--ink)}
        svg .marker line{stroke:var(--ink);stroke-dasharray:4 3;opacity:.55}svg .marker text{fill:var(--ink);font-size:11px;font-weight:600}
        footer{text-align:center;color:var(--muted);font-size:12px;padding:0 0 32px}
        """;

    /// <summary>A chart series: its label, the page's colour for it and the count of a sample it plots.</summary>
    private sealed record Plotted(string Label, string Color, Func<ModeSample, int> Count);
}
