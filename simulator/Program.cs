using Tcm.Simulator.Cli;
using Tcm.Simulator.Scenarios;

// The scenario engine (IScenarioRunner) is wired here; until it exists, `run` validates and exits 3.
return await new SimulatorCli(() => new PlaceholderScenarioRunner()).InvokeAsync(args);
