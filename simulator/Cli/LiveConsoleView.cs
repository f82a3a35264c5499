using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tcm.Simulator.Reports;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Cli;

/// <summary>
/// Shows a run's <see cref="RunProgress"/> while it runs: a Spectre.Console live table (timeline progress, agents by mode and
/// transport, pushes in flight) on an interactive terminal; plain periodic lines when output is redirected (CI logs).
/// </summary>
internal static class LiveConsoleView
{
    /// <summary>Whether the console can show the live table.</summary>
    public static bool IsInteractive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs until <paramref name="cancellationToken"/> fires (the run is over).</summary>
    /// <param name="progress">What to show.</param>
    /// <param name="plainOutput">Where plain lines go when not interactive.</param>
    /// <param name="interactive">Live table (true) or plain lines (false).</param>
    /// <param name="plainInterval">Time between plain lines. Default 5 s.</param>
    /// <param name="timeProvider">Clock for the refresh delays.</param>
    /// <param name="cancellationToken">Ends the view.</param>
    public static async Task RunAsync(RunProgress progress, TextWriter plainOutput, bool interactive, TimeSpan? plainInterval = null,
        TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        var time = timeProvider ?? TimeProvider.System;
        try
        {
            if (interactive)
            {
                await AnsiConsole.Live(Render(progress.Current)).AutoClear(false).StartAsync(async ctx =>
                {
                    while (!cancellationToken.IsCancellationRequested)
                    {
                        ctx.UpdateTarget(Render(progress.Current));
                        ctx.Refresh();
                        await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken).ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
            }
            else
            {
                string? previous = null;
                while (!cancellationToken.IsCancellationRequested)
                {
                    var line = PlainLine(progress.Current);
                    if (line != previous)
                    {
                        await plainOutput.WriteLineAsync(line).ConfigureAwait(false);
                        previous = line;
                    }

                    await Task.Delay(plainInterval ?? TimeSpan.FromSeconds(5), time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>With several NS nodes, the persistent channels each holds: <c> (ns-1 980, ns-2 1020)</c>.</summary>
    private static string Nodes(Reports.ModeSample f) =>
        f.PersistentByNode is { Count: > 0 } nodes ? $" ({string.Join(", ", nodes.Select(n => $"{n.Key} {n.Value}"))})" : "";

    /// <summary>One line for logs: <c>[00:42/02:00] running 3/7 events (last vpn-flip) | agents 1000: direct 400, cem 600, offline 0 | persistent 990, http 10 | hello 990/1000</c>.</summary>
    public static string PlainLine(RunSnapshot s)
    {
        var pushes = s.Pushes.Count == 0 ? "" : " | " + string.Join(", ", s.Pushes.Select(p => $"{p.Id} {p.Completed}/{p.Targets} done ({p.Delivered} delivered{(p.Failed > 0 ? $", {p.Failed} failed" : "")})"));
        var expectations = s.ExpectationsTotal == 0 ? "" : $" | expectations {s.ExpectationsHeld} held, {s.ExpectationsFailed} failed of {s.ExpectationsTotal}";
        var f = s.Fleet;
        return string.Create(CultureInfo.InvariantCulture,
            $"[{Clock(s.Elapsed)}/{Clock(s.Duration)}] {s.Phase} {s.EventsDone}/{s.EventsTotal} events{(s.LastEvent is null ? "" : $" (last {s.LastEvent})")} | agents {s.Agents}: running {f.Running}, direct {f.Direct}, cem {f.Cem}, offline {f.Offline} | persistent {f.Persistent}, http {f.Http}{Nodes(f)} | sockets {f.OpenSockets}{pushes}{expectations}");
    }

    /// <summary>The live table for a snapshot.</summary>
    public static IRenderable Render(RunSnapshot s)
    {
        var header = new Markup($"[bold]{Markup.Escape(s.Scenario)}[/]  [grey]{Markup.Escape(s.Phase)}[/]  {Clock(s.Elapsed)} / {Clock(s.Duration)}");
        var timeline = new BreakdownChart().Width(60).HideTagValues()
            .AddItem("done", Math.Max(0, s.EventsDone), Color.Green)
            .AddItem("to come", Math.Max(0, s.EventsTotal - s.EventsDone), Color.Grey);

        var events = new Grid().AddColumn().AddColumn();
        events.AddRow(new Markup("[grey]timeline[/]"), new Markup($"{s.EventsDone}/{s.EventsTotal} events"));
        events.AddRow(new Markup("[grey]last[/]"), new Markup(Markup.Escape(s.LastEvent ?? "-")));
        events.AddRow(new Markup("[grey]next[/]"), new Markup(Markup.Escape(s.NextEvent ?? "-")));

        var fleet = new Table().Border(TableBorder.Rounded).Title("agents")
            .AddColumns("running", "direct", "CEM", "offline", "persistent", "HTTP", "sockets");
        foreach (var column in fleet.Columns)
        {
            column.RightAligned();
        }

        var f = s.Fleet;
        fleet.AddRow(
            Cell(f.Running, s.Agents), Cell(f.Direct, s.Agents), Cell(f.Cem, s.Agents), Cell(f.Offline, s.Agents),
            Cell(f.Persistent, s.Agents), Cell(f.Http, s.Agents), f.OpenSockets.ToString(CultureInfo.InvariantCulture));

        var rows = new List<IRenderable> { header, timeline, events, fleet };
        if (Nodes(f) is { Length: > 0 } nodes)
        {
            rows.Add(new Markup(Markup.Escape("persistent by node:" + nodes)));
        }

        if (s.Pushes.Count > 0)
        {
            var pushes = new Table().Border(TableBorder.Rounded).Title("pushes").AddColumns("action", "kind", "targets", "delivered", "completed", "failed");
            foreach (var p in s.Pushes)
            {
                pushes.AddRow(Markup.Escape(p.Id), p.Kind, N(p.Targets), Cell(p.Delivered, p.Targets), Cell(p.Completed, p.Targets), p.Failed == 0 ? "0" : $"[red]{p.Failed}[/]");
            }

            rows.Add(pushes);
        }

        if (s.ExpectationsTotal > 0)
        {
            rows.Add(new Markup($"expectations: [green]{s.ExpectationsHeld} held[/], [red]{s.ExpectationsFailed} failed[/], {s.ExpectationsTotal - s.ExpectationsHeld - s.ExpectationsFailed} open"));
        }

        return new Rows(rows);
    }

    private static string Cell(int part, int whole) =>
        whole == 0 ? N(part) : string.Create(CultureInfo.InvariantCulture, $"{N(part)} [grey]{(double)part / whole * 100:0.#}%[/]");

    private static string N(int n) => n.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Clock(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);

    internal static string Describe(Scenario scenario) => $"{scenario.Name}: {scenario.Fleet.Agents} agents, {scenario.Timeline.Count} events, {scenario.Expectations.Count} expectations";
}
