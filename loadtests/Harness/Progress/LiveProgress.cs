using Spectre.Console;
using Spectre.Console.Rendering;

namespace Tcm.LoadTests.Harness.Progress;

/// <summary>
/// The live view of a run: a Spectre.Console table (scenario, phase, load, RPS, p99, OK, fails, connections) refreshed
/// every second; when output is redirected (CI, a shard) it degrades to a plain line per scenario every few seconds.
/// </summary>
internal sealed class LiveProgress : IAsyncDisposable
{
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(5);

    private readonly bool _plain;
    private readonly TextWriter _out;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private IReadOnlyList<ScenarioProgress> _latest = [];
    private Task? _live;
    private long _lastPlain;
    private string _title = "";

    /// <summary>Creates the view; <paramref name="plain"/> forces plain lines.</summary>
    public LiveProgress(bool plain, TextWriter output, TimeProvider time)
    {
        _plain = plain || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive;
        _out = output;
        _time = time;
    }

    /// <summary>Starts showing a run.</summary>
    public void Start(string title)
    {
        _title = title;
        if (_plain)
        {
            _out.WriteLine($"[{title}] started");
            return;
        }

        _live = AnsiConsole.Live(Render()).AutoClear(false).StartAsync(async ctx =>
        {
            while (!_stop.IsCancellationRequested)
            {
                ctx.UpdateTarget(Render());
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500), _time, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            ctx.UpdateTarget(Render());
        });
    }

    /// <summary>Receives a live view from the runner.</summary>
    public void Update(IReadOnlyList<ScenarioProgress> progress)
    {
        lock (_lock)
        {
            _latest = progress;
        }

        if (!_plain)
        {
            return;
        }

        var now = _time.GetTimestamp();
        if (_lastPlain != 0 && _time.GetElapsedTime(_lastPlain, now) < PlainEvery && progress.Any(p => p.Phase != ScenarioPhase.Done))
        {
            return;
        }

        _lastPlain = now;
        foreach (var p in progress)
        {
            _out.WriteLine(PlainLine(_title, p));
        }
    }

    /// <summary>One plain progress line.</summary>
    public static string PlainLine(string title, ScenarioProgress p) =>
        $"[{title}] {p.Name} {p.Phase.ToString().ToLowerInvariant()} t={p.ElapsedSeconds:0}s load={p.Load} conn={p.Connections:0} ok={p.Ok} fail={p.Fail} rps={p.Rps:0.#} p99={p.P99Ms:0.##}ms";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_live is not null)
        {
            await _live.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private IRenderable Render()
    {
        IReadOnlyList<ScenarioProgress> latest;
        lock (_lock)
        {
            latest = _latest;
        }

        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(_title)}[/]");
        foreach (var column in new[] { "scenario", "phase", "load", "time", "connections", "rps", "p99 ms", "ok", "fail" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var p in latest)
        {
            table.AddRow(
                Markup.Escape(p.Name),
                p.Phase.ToString().ToLowerInvariant(),
                Markup.Escape(p.Load),
                $"{p.ElapsedSeconds:0}s",
                $"{p.Connections:N0}",
                $"{p.Rps:N1}",
                $"{p.P99Ms:0.##}",
                $"[green]{p.Ok:N0}[/]",
                p.Fail == 0 ? "0" : $"[red]{p.Fail:N0}[/]");
        }

        return table;
    }
}
