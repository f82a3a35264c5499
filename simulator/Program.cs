using Tcm.Simulator.Cli;
using Tcm.Simulator.Scenarios;

// The scenario engine runs what the CLI has loaded and validated.
return await new SimulatorCli(() => new Tcm.Simulator.Engine.ScenarioRunner()).InvokeAsync(args);
