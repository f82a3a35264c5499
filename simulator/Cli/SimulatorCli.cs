using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Tcm.Simulator.Fleet;
using Tcm.Simulator.Reports;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Cli;

/// <summary>
/// The simulator's command line: <c>run</c>, <c>validate</c>, <c>list</c>. Exit codes: 0 every expectation held (or every file
/// valid), 1 an expectation failed, 2 invalid scenario or arguments, 3 the scenario engine is not available.
/// </summary>
internal sealed class SimulatorCli
{
    /// <summary>Every expectation held / every file is valid.</summary>
    public const int Ok = 0;
    /// <summary>At least one expectation failed.</summary>
    public const int ExpectationsFailed = 1;
    /// <summary>A scenario file or an argument is invalid.</summary>
    public const int InvalidInput = 2;
    /// <summary>The engine is not built (or could not start).</summary>
    public const int EngineUnavailable = 3;

    private readonly Func<IScenarioRunner> _runnerFactory;
    private readonly TextWriter _out;
    private readonly TextWriter _error;
    private readonly bool? _interactive;

    /// <param name="runnerFactory">Makes the runner for <c>run</c>.</param>
    /// <param name="output">Standard output (tests pass a <see cref="StringWriter"/>).</param>
    /// <param name="error">Standard error.</param>
    /// <param name="interactive">Force the live table on or off; null: detect the terminal.</param>
    public SimulatorCli(Func<IScenarioRunner> runnerFactory, TextWriter? output = null, TextWriter? error = null, bool? interactive = null)
    {
        _runnerFactory = runnerFactory;
        _out = output ?? Console.Out;
        _error = error ?? Console.Error;
        _interactive = interactive;
    }

    /// <summary>Parses <paramref name="args"/> and runs the command.</summary>
    public Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default) =>
        BuildRootCommand().Parse(args).InvokeAsync(new InvocationConfiguration { Output = _out, Error = _error }, cancellationToken);

    /// <summary>The command tree.</summary>
    public RootCommand BuildRootCommand()
    {
        var root = new RootCommand(
            "TCM fleet simulator: runs thousands of real TCM agents over a simulated network (office, home, VPN, CEM gateway) " +
            "against the real Notification Server, Task Servers and gateway, driven by scenario files (docs/scenarios.md).");
        root.Subcommands.Add(BuildRun());
        root.Subcommands.Add(BuildValidate());
        root.Subcommands.Add(BuildList());
        return root;
    }

    private Command BuildRun()
    {
        var scenario = new Argument<string>("scenario") { Description = "The scenario file, e.g. scenarios/quickstart.yaml." };
        var report = new Option<string?>("--report") { Description = "Directory for report.json, report.md and report.html. Default: reports/<scenario>-<UTC time>.", HelpName = "DIR" };
        var agents = new Option<int?>("--agents") { Description = "Number of agents, overriding fleet.agents (group shares still apply).", HelpName = "N" };
        agents.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1)
            {
                r.AddError("--agents must be at least 1");
            }
        });
        var seed = new Option<int?>("--seed") { Description = "Seed of every random choice, overriding the scenario's seed.", HelpName = "S" };
        var shard = new Option<ShardSpec?>("--shard")
        {
            Description = "Run one shard of the fleet: agents whose index k has k % N == i (0 <= i < N). Run N processes for the whole fleet.",
            HelpName = "i/N",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
                if (ShardSpec.TryParse(text, out var parsed, out var error))
                {
                    return parsed;
                }

                r.AddError(error!);
                return null;
            },
        };
        var keepRunning = new Option<bool>("--keep-running") { Description = "After the timeline, keep the lab and the fleet up until Ctrl+C (look around with the admin API)." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log the servers and agents at Debug level." };

        var target = new Option<string?>("--target") { Description = "Run the fleet against a system that already runs (its Notification Server URL, e.g. https://localhost:4443) instead of the scenario's system; server events (stop-server, ...) then fail, as the simulator does not own the servers.", HelpName = "URL" };
        var adminKey = new Option<string?>("--admin-key") { Description = "Admin API key of the --target system. Default: the TCM_ADMIN_KEY environment variable.", HelpName = "KEY" };
        var ca = new Option<string?>("--ca") { Description = "PEM file of the --target system's CA (e.g. <ns data>/ca.pem), so its certificate is trusted.", HelpName = "FILE" };
        target.Validators.Add(r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
            if (text is not null && (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps))
            {
                r.AddError($"--target must be the Notification Server's https URL, e.g. https://localhost:4443 (got '{text}')");
            }
        });
        var command = new Command("run", "Run a scenario and write its report. Exit code 0 when every expectation held, 1 when one failed, 2 when the scenario is invalid.")
        {
            scenario, report, agents, seed, shard, keepRunning, verbose, target, adminKey, ca,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetRequiredValue(scenario);
            var loaded = ScenarioLoader.Load(path);
            if (!loaded.Succeeded)
            {
                await PrintErrorsAsync(path, loaded.Errors).ConfigureAwait(false);
                return InvalidInput;
            }

            var model = loaded.Scenario!;
            if (parseResult.GetValue(target) is { } url)
            {
                model = model with { System = new Scenarios.ExternalSystem { Url = new Uri(url), AdminKey = parseResult.GetValue(adminKey), CaFile = parseResult.GetValue(ca) } };
            }

            var options = new RunOptions
            {
                ScenarioPath = path,
                ReportDirectory = parseResult.GetValue(report) ?? Path.Combine("reports", $"{model.Name}-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}"),
                Agents = parseResult.GetValue(agents),
                Seed = parseResult.GetValue(seed),
                Shard = parseResult.GetValue(shard),
                KeepRunning = parseResult.GetValue(keepRunning),
                Verbose = parseResult.GetValue(verbose),
            };
            if (Engine.ScenarioRunner.MissingPrerequisite(model) is { } missing)
            {
                await _error.WriteLineAsync($"{path}: cannot run: the lab's Notification Server store is PostgreSQL, and there is {missing} (exit code {EngineUnavailable}).").ConfigureAwait(false);
                return EngineUnavailable;
            }

            return await RunAsync(model, options, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private async Task<int> RunAsync(Scenario scenario, RunOptions options, CancellationToken cancellationToken)
    {
        await _out.WriteLineAsync($"{LiveConsoleView.Describe(scenario)}; seed {options.SeedFor(scenario)}{(options.Agents is { } a ? $", --agents {a}" : "")}{(options.Shard is { } s ? $", shard {s}" : "")}").ConfigureAwait(false);
        using var viewStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var view = LiveConsoleView.RunAsync(options.Progress, _out, _interactive ?? (LiveConsoleView.IsInteractive && ReferenceEquals(_out, Console.Out)), cancellationToken: viewStop.Token);
        SimulationReport report;
        try
        {
            report = await _runnerFactory().RunAsync(scenario, options, cancellationToken).ConfigureAwait(false);
        }
        catch (ScenarioEngineNotBuiltException ex)
        {
            await viewStop.CancelAsync().ConfigureAwait(false);
            await view.ConfigureAwait(false);
            await _error.WriteLineAsync($"{ex.Message}: the scenario loaded and is valid, but nothing can run it (exit code {EngineUnavailable}).").ConfigureAwait(false);
            return EngineUnavailable;
        }
        finally
        {
            await viewStop.CancelAsync().ConfigureAwait(false);
            await view.ConfigureAwait(false);
        }

        var files = await ReportWriter.WriteAllAsync(report, options.ReportDirectory, CancellationToken.None).ConfigureAwait(false);
        await _out.WriteLineAsync().ConfigureAwait(false);
        foreach (var e in report.Expectations)
        {
            await _out.WriteLineAsync($"  {(e.Passed ? "held  " : "FAILED")}  {e.Name}: {e.Text} -> {e.Observed}{(e.Detail is null ? "" : $" ({e.Detail})")}").ConfigureAwait(false);
        }

        await _out.WriteLineAsync($"{(report.Passed ? "PASSED" : "FAILED")}: {report.Expectations.Count(e => e.Passed)}/{report.Expectations.Count} expectations held; run ended: {report.EndReason}").ConfigureAwait(false);
        await _out.WriteLineAsync($"report: {string.Join(", ", files)}").ConfigureAwait(false);
        return report.Passed ? Ok : ExpectationsFailed;
    }

    private Command BuildValidate()
    {
        var files = new Argument<string[]>("files") { Description = "Scenario files to check.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("validate", "Check scenario files without running them: every error with file:line:column. Exit code 0 when all are valid, 2 otherwise.") { files };
        command.SetAction(async (parseResult, _) =>
        {
            var failed = 0;
            foreach (var path in parseResult.GetRequiredValue(files))
            {
                var result = ScenarioLoader.Load(path);
                if (result.Succeeded)
                {
                    await _out.WriteLineAsync($"ok  {path}  ({LiveConsoleView.Describe(result.Scenario!)})").ConfigureAwait(false);
                }
                else
                {
                    failed++;
                    await PrintErrorsAsync(path, result.Errors).ConfigureAwait(false);
                }
            }

            return failed == 0 ? Ok : InvalidInput;
        });
        return command;
    }

    private Command BuildList()
    {
        var directory = new Option<string?>("--dir") { Description = "Where to look. Default: ./scenarios, or the repository's scenarios folder.", HelpName = "DIR" };
        var command = new Command("list", "List the scenario files with their descriptions.") { directory };
        command.SetAction(async (parseResult, _) =>
        {
            var dir = parseResult.GetValue(directory) ?? FindScenariosDirectory();
            if (dir is null || !Directory.Exists(dir))
            {
                await _error.WriteLineAsync($"no scenarios folder found{(dir is null ? "" : $" at '{dir}'")}; pass --dir").ConfigureAwait(false);
                return InvalidInput;
            }

            var files = Directory.GetFiles(dir, "*.yaml").Concat(Directory.GetFiles(dir, "*.yml")).Order(StringComparer.Ordinal).ToArray();
            var rows = files.Select(f => (File: f, Result: ScenarioLoader.Load(f))).ToArray();
            var width = rows.Select(r => Path.GetFileName(r.File).Length).DefaultIfEmpty(10).Max();
            foreach (var (file, result) in rows)
            {
                var name = Path.GetFileName(file).PadRight(width);
                var text = result.Succeeded
                    ? $"{result.Scenario!.Fleet.Agents,7} agents  {result.Scenario.Description ?? "(no description)"}"
                    : $"INVALID ({result.Errors.Count} error(s); run 'validate {file}')";
                await _out.WriteLineAsync($"{name}  {text}").ConfigureAwait(false);
            }

            if (rows.Length == 0)
            {
                await _out.WriteLineAsync($"no *.yaml files in {dir}").ConfigureAwait(false);
            }

            return Ok;
        });
        return command;
    }

    private async Task PrintErrorsAsync(string path, IReadOnlyList<ScenarioError> errors)
    {
        foreach (var error in errors)
        {
            await _error.WriteLineAsync(error.ToString()).ConfigureAwait(false);
        }

        await _error.WriteLineAsync($"{path}: {errors.Count} error(s); see docs/scenarios.md for the format").ConfigureAwait(false);
    }

    private static string? FindScenariosDirectory()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scenarios");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
