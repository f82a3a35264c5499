using System.Globalization;
using System.Text;
using System.Text.Json;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Reports;

/// <summary>Writes a <see cref="SimulationReport"/> as <c>report.json</c>, <c>report.md</c> and <c>report.html</c>.</summary>
internal static class ReportWriter
{
    /// <summary>Writes the three files into <paramref name="directory"/> (created if needed) and returns their paths.</summary>
    public static async Task<IReadOnlyList<string>> WriteAllAsync(SimulationReport report, string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        var json = Path.Combine(directory, "report.json");
        var md = Path.Combine(directory, "report.md");
        var html = Path.Combine(directory, "report.html");
        // No byte-order mark: tools such as jq and Python's json refuse one.
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        await File.WriteAllTextAsync(json, ToJson(report), utf8, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(md, MarkdownReportWriter.Write(report), utf8, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(html, HtmlReportWriter.Write(report), utf8, cancellationToken).ConfigureAwait(false);
        return [json, md, html];
    }

    /// <summary>The report as indented JSON (source-generated serializer).</summary>
    public static string ToJson(SimulationReport report) => JsonSerializer.Serialize(report, ReportJsonContext.Default.SimulationReport);

    /// <summary>Reads a <c>report.json</c> back (for comparisons between runs).</summary>
    public static SimulationReport? FromJson(string json) => JsonSerializer.Deserialize(json, ReportJsonContext.Default.SimulationReport);

    internal static string Ms(double ms) => ms >= 1000
        ? (ms / 1000).ToString("0.##", CultureInfo.InvariantCulture) + " s"
        : ms.ToString(ms < 10 ? "0.#" : "0", CultureInfo.InvariantCulture) + " ms";

    internal static string Seconds(double? seconds) => seconds is { } s ? DurationText.Format(TimeSpan.FromSeconds(Math.Round(s, 1))) : "–";

    internal static string Percent(int part, int whole) => whole == 0 ? "–" : ((double)part / whole * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    internal static string Number(double value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    /// <summary>Requests by kind as one line: <c>ns http 120, ns hello 40, ts ack 35</c>.</summary>
    internal static string ByKind(TrafficReport t) =>
        string.Join(", ", t.RequestsByKind.Where(r => r.Value != 0).OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {Number(r.Value)}"));

    /// <summary>A group's bytes by destination class, over a VPN adapter and of downloads, formatted.</summary>
    internal static (string Corporate, string Public, string Vpn, string Downloads) GroupFigures(TrafficReport g) => (
        DurationText.FormatBytes((long)g.Figure(TrafficMetric.Bytes, new TrafficFilter { Destination = Tcm.Lab.Network.EndpointClass.Corporate })),
        DurationText.FormatBytes((long)g.Figure(TrafficMetric.Bytes, new TrafficFilter { Destination = Tcm.Lab.Network.EndpointClass.Public })),
        DurationText.FormatBytes(g.VpnBytes),
        DurationText.FormatBytes(g.PackageBytes));

    /// <summary>Reconnects per second after the event, as counts with the second they fell in: <c>0s: 12, 1s: 40, ...</c> (empty seconds left out).</summary>
    internal static string Spread(ReconnectSpread c) =>
        string.Join(", ", c.PerSecond.Select((n, i) => (n, i)).Where(x => x.n > 0).Select(x => $"{x.i}s: {x.n}"));
}

/// <summary><c>report.md</c>: the report as tables a person reads (and a CI job can attach).</summary>
internal static class MarkdownReportWriter
{
    public static string Write(SimulationReport r)
    {
        var sb = new StringBuilder();
        var passed = r.Expectations.Count(e => e.Passed);
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {r.Scenario}: {(r.Passed ? "PASSED" : "FAILED")}");
        sb.AppendLine();
        if (r.Description is not null)
        {
            sb.AppendLine(r.Description).AppendLine();
        }

        sb.AppendLine("| | |").AppendLine("| --- | --- |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| scenario file | `{r.ScenarioFile ?? "-"}` |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| agents | {ReportWriter.Number(r.Agents)}{(r.Shard is null ? "" : $" (shard {r.Shard})")}{(r.Legacy ? ", legacy HTTP polling" : "")} |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| seed | {r.Seed} |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| system | {r.System} |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| started | {r.StartedAt:yyyy-MM-dd HH:mm:ss} UTC |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| duration | {DurationText.Format(TimeSpan.FromSeconds(Math.Round(r.Duration.TotalSeconds, 1)))} ({r.EndReason}) |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| expectations | {passed}/{r.Expectations.Count} held |");
        sb.AppendLine();

        sb.AppendLine("## Expectations").AppendLine();
        sb.AppendLine("| | name | expectation | observed |").AppendLine("| --- | --- | --- | --- |");
        foreach (var e in r.Expectations)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {(e.Passed ? "✅" : "❌")} | {Cell(e.Name)} | `{Cell(e.Text)}` | {Cell(e.Observed)}{(e.Detail is null ? "" : " — " + Cell(e.Detail))} |");
        }

        sb.AppendLine().AppendLine("## Timeline").AppendLine();
        sb.AppendLine("| at | event | action | trigger | select | agents | outcome |").AppendLine("| ---: | --- | --- | --- | --- | ---: | --- |");
        foreach (var t in r.Timeline)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {ReportWriter.Seconds(t.StartedAt)} | {Cell(t.Id)} | {t.Action} | {Cell(t.Trigger)} | {Cell(t.Selection)} | {t.Agents} | {t.Outcome}{(t.Detail is null ? "" : ": " + Cell(t.Detail))} |");
        }

        if (r.Samples.Count > 0)
        {
            sb.AppendLine().AppendLine("## Fleet over time").AppendLine();
            sb.AppendLine("| at | running | direct | CEM | offline | persistent | HTTP | TS via CEM | sockets |").AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            var step = Math.Max(1, r.Samples.Count / 20);
            for (var i = 0; i < r.Samples.Count; i += step)
            {
                var s = r.Samples[i];
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {ReportWriter.Seconds(s.At)} | {s.Running} | {s.Direct} | {s.Cem} | {s.Offline} | {s.Persistent} | {s.Http} | {s.TsCem} | {s.OpenSockets} |");
            }
        }

        if (r.Actions.Count > 0)
        {
            sb.AppendLine().AppendLine("## Actions").AppendLine();
            sb.AppendLine("| action | kind | targets | delivered (channel) | completed | failed | dup | p50 / p99 delivered | p50 / p99 completed |")
              .AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var a in r.Actions)
            {
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Cell(a.Id)} | {a.Kind}{(a.Command is null ? "" : $" `{Cell(a.Command)}`")} | {a.Targets} | {a.Delivered} ({a.DeliveredOverChannel}) | {a.Completed} | {a.Failed + a.TimedOut} | {a.Duplicates} | {ReportWriter.Ms(a.DeliveredLatency.P50)} / {ReportWriter.Ms(a.DeliveredLatency.P99)} | {ReportWriter.Ms(a.CompletedLatency.P50)} / {ReportWriter.Ms(a.CompletedLatency.P99)} |");
            }
        }

        foreach (var a in r.Actions.Where(a => a.Waves is not null))
        {
            sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"### Waves of {Cell(a.Id)}").AppendLine().AppendLine(Cell(a.Waves!.Heading)).AppendLine();
            sb.AppendLine("| wave | targets | sent at | states |").AppendLine("| ---: | ---: | ---: | --- |");
            foreach (var (wave, targets, sentAt, states) in a.Waves.Rows())
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {wave} | {targets} | {sentAt} | {states} |");
            }
        }

        if (r.Reconnects.Count > 0)
        {
            sb.AppendLine().AppendLine("## Reconnects").AppendLine();
            sb.AppendLine("| after | at | agents | reconnected | p50 | p90 | p99 | last | peak per second | per second after the event |").AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
            foreach (var c in r.Reconnects)
            {
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Cell(c.EventId)} | {ReportWriter.Seconds(c.At)} | {c.Agents} | {c.Reconnected} | {c.P50:0.0} s | {c.P90:0.0} s | {c.P99:0.0} s | {c.Max:0.0} s | {c.PeakPerSecond} | {ReportWriter.Spread(c)} |");
            }
        }

        sb.AppendLine().AppendLine("## Traffic").AppendLine();
        AppendTraffic(sb, r.Traffic);
        if (r.LegacyTraffic is { } legacy)
        {
            sb.AppendLine().AppendLine("### Legacy (pure HTTP polling) run of the same fleet").AppendLine();
            AppendTraffic(sb, legacy);
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"TCM vs legacy: requests per agent-hour {Ratio(legacy.RequestsPerAgentHour, r.Traffic.RequestsPerAgentHour)} fewer, bytes per agent-hour {Ratio(legacy.BytesPerAgentHour, r.Traffic.BytesPerAgentHour)} fewer.");
        }

        if (r.Process is { } p)
        {
            sb.AppendLine().AppendLine("## Simulator process").AppendLine();
            sb.AppendLine("| agents running (persistent) | managed per agent | working set per agent | peak open sockets | CPU | servers in process |");
            sb.AppendLine("| --- | --- | --- | --- | --- | --- |");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {p.AgentsRunning} ({p.AgentsPersistent}) | {p.ManagedBytesPerAgent / 1024:0.0} KB | {p.WorkingSetPerAgent / 1024:0.0} KB | {p.PeakOpenSockets} | {p.CpuSeconds:0.0} s | {(p.ServersInProcess ? "yes: figures include the servers' side" : "no: the agents alone")} |");
            sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Live heap after a full compacting collection, {p.MeasuredWhen}.");
        }

        if (r.Notes.Count > 0)
        {
            sb.AppendLine().AppendLine("## Notes").AppendLine();
            foreach (var note in r.Notes)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
            }
        }

        return sb.ToString();
    }

    private static void AppendTraffic(StringBuilder sb, TrafficReport t)
    {
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"Requests: {ReportWriter.Number(t.Requests)} ({ReportWriter.Number(t.HttpRequests)} HTTP, {ReportWriter.Number(t.ChannelRequests)} over the channel), {t.RequestsPerAgentHour.ToString("0.#", CultureInfo.InvariantCulture)} per agent-hour; "
            + $"bytes {DurationText.FormatBytes(t.BytesSent)} sent, {DurationText.FormatBytes(t.BytesReceived)} received, {DurationText.FormatBytes(t.BytesPerAgentHour)} per agent-hour; "
            + $"VPN package bytes {DurationText.FormatBytes(t.VpnPackageBytes)}; unreachable connects {ReportWriter.Number(t.Unreachable)}.");
        sb.AppendLine();
        sb.AppendLine("| adapter | destination | purpose | sent | received | connections | unreachable |").AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var row in t.Rows)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Adapter} | {row.Destination} | {row.Purpose} | {DurationText.FormatBytes(row.BytesSent)} | {DurationText.FormatBytes(row.BytesReceived)} | {ReportWriter.Number(row.Connections)} | {ReportWriter.Number(row.Unreachable)} |");
        }

        if (t.RequestsByKind.Count > 0)
        {
            sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Requests by kind: {ReportWriter.ByKind(t)}.");
        }

        if (t.Groups.Count > 0)
        {
            sb.AppendLine().AppendLine("| group | requests | per agent-hour | bytes (no downloads) | corporate | public | VPN | downloads | unreachable |")
              .AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var (name, g) in t.Groups.OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var f = ReportWriter.GroupFigures(g);
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Cell(name)} | {ReportWriter.Number(g.Requests)} | {g.RequestsPerAgentHour.ToString("0.#", CultureInfo.InvariantCulture)} | {DurationText.FormatBytes(g.BytesSent + g.BytesReceived)} | {f.Corporate} | {f.Public} | {f.Vpn} | {f.Downloads} | {ReportWriter.Number(g.Unreachable)} |");
            }
        }
    }

    internal static string Ratio(double legacy, double tcm) => tcm <= 0 ? "∞x" : (legacy / tcm).ToString("0.#", CultureInfo.InvariantCulture) + "x";

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
