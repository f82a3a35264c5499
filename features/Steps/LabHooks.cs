using Reqnroll;
using Tcm.Features.Drivers;

namespace Tcm.Features.Steps;

/// <summary>
/// Around every product scenario (the hooks are scoped to the product features' tags): afterwards, stop its agents and give
/// the lab back as it was found (server running, TCM on, profiles and settings restored), so scenarios of a feature share
/// one lab without depending on each other. A scenario that did not pass shows its agents' logs. The lab itself starts on
/// first use in the feature (<see cref="LabDriver"/>) and lives in the <see cref="FeatureContext"/> until the feature ends.
/// </summary>
[Binding]
internal sealed class LabHooks
{
    [AfterScenario("fallback", "delivery", "routing", "downloads", "proxy", "waves", Order = 100)]
    public static async Task ResetTheLab(FleetDriver fleet, LabDriver lab, ScenarioContext scenario, IReqnrollOutputHelper output)
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

        // Reqnroll's container disposes only IDisposable objects: the fleet's agents are asynchronous ones.
        await fleet.DisposeAsync();
    }

    /// <summary>The feature's lab (its servers and data folder) goes with the feature; Reqnroll does not dispose what a context holds.</summary>
    [AfterFeature("fallback", "delivery", "routing", "downloads", "proxy", "waves")]
    public static async Task StopTheLab(FeatureContext feature)
    {
        if (feature.TryGetValue<LabHost>(out var host))
        {
            feature.Remove(typeof(LabHost).FullName!);
            await host.DisposeAsync();
        }
    }
}
