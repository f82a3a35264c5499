namespace Tcm.LoadTests.Harness;

/// <summary>
/// A scenario as in NBomber: a name, an iteration function, optional init and clean, a warm-up and load simulations.
/// Built with <see cref="Scenario.Create"/> and the <c>With...</c> methods; immutable.
/// </summary>
internal sealed record ScenarioProps
{
    /// <summary>Name, unique in a run; used in reports and thresholds.</summary>
    public required string Name { get; init; }

    /// <summary>One iteration; its response (and latency) is the scenario's own statistic.</summary>
    public required Func<ScenarioContext, Task<Response>> Run { get; init; }

    /// <summary>Runs once before the load (not measured).</summary>
    public Func<ScenarioInitContext, Task>? Init { get; init; }

    /// <summary>Runs once after the load (not measured), even when the run failed or was cancelled.</summary>
    public Func<ScenarioInitContext, Task>? Clean { get; init; }

    /// <summary>Time the load simulations run before measurement starts; its statistics are dropped. Default none.</summary>
    public TimeSpan WarmUpDuration { get; init; }

    /// <summary>The load phases, in order. Default: one copy for one minute.</summary>
    public IReadOnlyList<LoadSimulation> LoadSimulations { get; init; } = [Simulation.KeepConstant(1, TimeSpan.FromMinutes(1))];

    /// <summary>How long open-model iterations still running at the end may finish before they are cancelled. Default 10 s.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Hard limit on the scenario's measured time, whatever its simulations say. Default 30 minutes.</summary>
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Sets the init function.</summary>
    public ScenarioProps WithInit(Func<ScenarioInitContext, Task> init) => this with { Init = init };

    /// <summary>Sets the clean function.</summary>
    public ScenarioProps WithClean(Func<ScenarioInitContext, Task> clean) => this with { Clean = clean };

    /// <summary>Sets the warm-up duration.</summary>
    public ScenarioProps WithWarmUpDuration(TimeSpan duration) => this with { WarmUpDuration = duration };

    /// <summary>No warm-up.</summary>
    public ScenarioProps WithoutWarmUp() => this with { WarmUpDuration = TimeSpan.Zero };

    /// <summary>Sets the load phases.</summary>
    public ScenarioProps WithLoadSimulations(params LoadSimulation[] simulations)
    {
        if (simulations.Length == 0)
        {
            throw new ArgumentException("A scenario needs at least one load simulation.", nameof(simulations));
        }

        foreach (var simulation in simulations)
        {
            simulation.Validate();
        }

        return this with { LoadSimulations = simulations };
    }

    /// <summary>Sets how long in-flight iterations may finish at the end.</summary>
    public ScenarioProps WithStopGrace(TimeSpan grace) => this with { StopGrace = grace };

    /// <summary>Sets the hard limit on the scenario's measured time.</summary>
    public ScenarioProps WithMaxDuration(TimeSpan max) => this with { MaxDuration = max };
}

/// <summary>Entry point of the fluent API: <c>Scenario.Create("connect", async ctx => { ...; return Response.Ok(); })</c>.</summary>
internal static class Scenario
{
    /// <summary>Creates a scenario.</summary>
    public static ScenarioProps Create(string name, Func<ScenarioContext, Task<Response>> run)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(run);
        return new ScenarioProps { Name = name, Run = run };
    }
}
