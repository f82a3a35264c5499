using Tcm.Features.Drivers;
using Tcm.Features.Runner;
using Xunit.Abstractions;

namespace Tcm.Features.Steps;

/// <summary>
/// Around every product scenario: afterwards, stop its agents and give the lab back as it was found (server running, TCM on,
/// profiles and settings restored), so scenarios of a feature share one lab without depending on each other. A scenario that
/// did not pass shows its agents' logs. The lab itself starts on first use in the feature (<see cref="LabDriver"/>) and is
/// disposed with the feature context.
/// </summary>
[Binding]
internal sealed class LabHooks
{
    [AfterScenario("fallback", "delivery", "routing", "downloads", Order = 100)]
    public static async Task ResetTheLab(FleetDriver fleet, LabDriver lab, ScenarioContext scenario, ITestOutputHelper output)
    {
        if (scenario.ScenarioExecutionStatus != ScenarioExecutionStatus.OK)
        {
            foreach (var (name, log) in fleet.Logs)
            {
                output.WriteLine($"--- log of \"{name}\" (last 60 lines) ---");
                foreach (var entry in log.Entries.TakeLast(60))
                {
                    output.WriteLine(entry.ToString());
                }
            }
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await fleet.StopAllAsync(deadline.Token);
        await lab.ResetAsync(deadline.Token);
    }
}
