using Microsoft.Extensions.Logging;
using Tcm.Simulator.Fleet;
using Tcm.Simulator.Reports;

namespace Tcm.Simulator.Scenarios;

/// <summary>
/// Runs a loaded scenario: starts (or connects to) the system, builds the fleet, plays the timeline, samples the fleet every
/// second into <see cref="RunOptions.Progress"/>, checks the expectations and returns the report. The CLI writes the report files
/// and turns <see cref="SimulationReport.Passed"/> into the exit code.
/// </summary>
internal interface IScenarioRunner
{
    /// <summary>
    /// Runs <paramref name="scenario"/> until its timeline is done and every expectation is decided, or its <c>duration</c> elapses,
    /// or <paramref name="cancellationToken"/> fires (then a partial report with <c>EndReason = "cancelled"</c> is returned).
    /// </summary>
    Task<SimulationReport> RunAsync(Scenario scenario, RunOptions options, CancellationToken cancellationToken);
}

/// <summary>How to run a scenario: the command line's choices.</summary>
internal sealed record RunOptions
{
    /// <summary>The scenario file as given (relative paths in the scenario, like <c>caFile</c>, are relative to it).</summary>
    public string? ScenarioPath { get; init; }
    /// <summary>Where the report files go (<c>--report</c>).</summary>
    public string ReportDirectory { get; init; } = "reports";
    /// <summary><c>--agents</c>: overrides <c>fleet.agents</c>.</summary>
    public int? Agents { get; init; }
    /// <summary><c>--seed</c>: overrides the scenario's seed.</summary>
    public int? Seed { get; init; }
    /// <summary><c>--shard i/N</c>: run only agents with index k % N == i.</summary>
    public ShardSpec? Shard { get; init; }
    /// <summary><c>--keep-running</c>: after the timeline, keep the lab and the fleet up until cancelled (to look around with the admin API).</summary>
    public bool KeepRunning { get; init; }
    /// <summary><c>--verbose</c>: log servers and agents at Debug.</summary>
    public bool Verbose { get; init; }
    /// <summary>Where the runner publishes its live snapshot (the console view reads it).</summary>
    public RunProgress Progress { get; init; } = new();
    /// <summary>The run's clock. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
    /// <summary>Logging for the lab and the agents; null: the runner's own default (warnings to the console).</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The seed to use: <c>--seed</c>, else the scenario's.</summary>
    public int SeedFor(Scenario scenario) => Seed ?? scenario.Seed;

    /// <summary>The total agents to use: <c>--agents</c>, else <c>fleet.agents</c>.</summary>
    public int AgentsFor(Scenario scenario) => Agents ?? scenario.Fleet.Agents;
}

/// <summary>Thrown by <see cref="PlaceholderScenarioRunner"/>: the CLI exits with code 3.</summary>
internal sealed class ScenarioEngineNotBuiltException() : Exception("the scenario engine is not built yet");

/// <summary>Stands in for the engine until it exists: always throws <see cref="ScenarioEngineNotBuiltException"/>.</summary>
internal sealed class PlaceholderScenarioRunner : IScenarioRunner
{
    public Task<SimulationReport> RunAsync(Scenario scenario, RunOptions options, CancellationToken cancellationToken) =>
        Task.FromException<SimulationReport>(new ScenarioEngineNotBuiltException());
}
