using Spectre.Console;
using Tcm.Simulator.Cli;
using Tcm.Simulator.Reports;

namespace Tcm.Simulator.Tests.Cli;

public sealed class LiveConsoleViewTests
{
    [Fact]
    public void Render_WorksFromTheFirstSnapshotToABusyOne()
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });

        console.Write(LiveConsoleView.Render(RunSnapshot.Initial));
        console.Write(LiveConsoleView.Render(new RunSnapshot
        {
            Scenario = "quickstart [x]", Phase = "running", EventsDone = 2, EventsTotal = 5, Agents = 1000, Fleet = new ModeSample { At = 42, Running = 1000, Direct = 400, Cem = 600, Persistent = 990, Http = 10 },
            Pushes = [new PushProgress("hello", "push-task", 1000, 990, 980, 3)], ExpectationsTotal = 4, ExpectationsHeld = 1,
        }));

        writer.ToString().Should().Contain("quickstart [x]").And.Contain("hello").And.Contain("990");
    }

    [Fact]
    public async Task PlainMode_WritesLinesUntilCancelled()
    {
        var progress = new RunProgress();
        progress.Publish(new RunSnapshot { Scenario = "s", Phase = "running", Agents = 5 });
        using var writer = new StringWriter();
        using var cts = new CancellationTokenSource();

        var view = LiveConsoleView.RunAsync(progress, writer, interactive: false, plainInterval: TimeSpan.FromMilliseconds(10), cancellationToken: cts.Token);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!writer.ToString().Contains("agents 5", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await cts.CancelAsync();
        await view.WaitAsync(TimeSpan.FromSeconds(10));
        writer.ToString().Should().Contain("running 0/0 events | agents 5");
    }
}
