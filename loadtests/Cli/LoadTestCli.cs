using System.CommandLine;
using Tcm.LoadTests.Baseline.Server;
using Tcm.LoadTests.GatewayBench;
using Tcm.LoadTests.Harness.Thresholds;
using Tcm.LoadTests.Tests;

namespace Tcm.LoadTests.Cli;

/// <summary>
/// The command line: <c>list</c>, one command per test with the common options (<c>--agents --duration --target
/// --report --processes --variant --protocol --threshold</c>) and its own, <c>gateway-bench</c>, and the hidden
/// <c>serve-baseline</c>, <c>serve-relay</c> and gateway-bench roles.
/// Exit codes: 0 passed, 1 a threshold failed, 2 usage error, 3 the run failed.
/// </summary>
internal static class LoadTestCli
{
    /// <summary>Parses and runs.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        output ??= Console.Out;
        var root = Build(output, args);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var error in parse.Errors)
            {
                await output.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }

            await output.WriteLineAsync("Try 'list' for the tests, or '<test> --help'.").ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output }, cancellationToken).ConfigureAwait(false);
    }

    private static RootCommand Build(TextWriter output, string[] args)
    {
        var root = new RootCommand("TCM load tests for capacity planners. Each test runs a bare-stack baseline and the TCM variant and reports TCM as a ratio to it.");
        var list = new Command("list", "List the load tests.");
        list.SetAction(_ =>
        {
            foreach (var test in TestCatalog.All)
            {
                output.WriteLine($"{test.Name,-18} {test.Description}");
            }

            output.WriteLine($"{"gateway-bench",-18} N idle agents through one gateway process beside a bare Kestrel baseline: memory per agent and idle CPU.");
            output.WriteLine();
            output.WriteLine("Run one: dotnet run -c Release --project loadtests -- <test> [--agents N] [--duration D] [--target lab|URL] [--report DIR] [--processes P]");
            return ExitCodes.Passed;
        });
        root.Subcommands.Add(list);

        foreach (var test in TestCatalog.All)
        {
            root.Subcommands.Add(BuildTestCommand(test, output, args));
        }

        var port = new Option<int>("--port") { Description = "Port (0: any free).", DefaultValueFactory = _ => 0 };
        var pfx = new Option<string>("--pfx") { Description = "PKCS#12 file of the server certificate.", Required = true };
        var foreground = new Option<bool>("--foreground") { Description = "Run until Ctrl+C instead of until standard input closes." };
        var serve = new Command("serve-baseline", "Run the bare baseline server (used by the tests as a child process, and to attach shards to).")
        {
            Hidden = true,
        };
        serve.Options.Add(port);
        serve.Options.Add(pfx);
        serve.Options.Add(foreground);
        serve.SetAction((parse, ct) => ServeBaselineCommand.RunAsync(parse.GetValue(port), parse.GetValue(pfx)!, !parse.GetValue(foreground), ct));
        root.Subcommands.Add(serve);

        var upstream = new Option<string>("--upstream") { Description = "The bare server to relay to (https://127.0.0.1:P).", Required = true };
        var upstreamCa = new Option<string>("--ca") { Description = "PEM file of the CA that signed the bare server's certificate.", Required = true };
        var relay = new Command("serve-relay", "Run the bare relay of the baseline's gateway route in front of a bare server (used by the tests as a child process).")
        {
            Hidden = true,
        };
        relay.Options.Add(port);
        relay.Options.Add(pfx);
        relay.Options.Add(upstream);
        relay.Options.Add(upstreamCa);
        relay.Options.Add(foreground);
        relay.SetAction((parse, ct) => ServeBaselineCommand.RunRelayAsync(parse.GetValue(port), parse.GetValue(pfx)!, new Uri(parse.GetValue(upstream)!), parse.GetValue(upstreamCa)!, !parse.GetValue(foreground), ct));
        root.Subcommands.Add(relay);

        root.Subcommands.Add(GatewayBenchCommand.Create());
        foreach (var role in GatewayBenchCommand.CreateRoles())
        {
            root.Subcommands.Add(role);
        }

        return root;
    }

    private static Command BuildTestCommand(ILoadTest test, TextWriter output, string[] args)
    {
        var command = new Command(test.Name, test.Description);
        var agents = new Option<int>("--agents", "-n") { Description = $"Agents (connections) in all.", DefaultValueFactory = _ => test.DefaultAgents };
        var duration = new Option<string>("--duration", "-d") { Description = $"{char.ToUpperInvariant(test.DurationMeaning[0])}{test.DurationMeaning[1..]} (500ms, 30s, 2m). Default {DurationText.Format(test.DefaultDuration)}." };
        var target = new Option<string>("--target") { Description = "'lab' starts the server here; a URL (https://host:port) attaches to a running one.", DefaultValueFactory = _ => "lab" };
        var report = new Option<string>("--report") { Description = "Folder for report.html, .md, .csv and .json. Default reports/<test>-<time>." };
        var processes = new Option<int>("--processes", "-p") { Description = "Load-generator processes, each with its share of the agents; their results are merged.", DefaultValueFactory = _ => 1 };
        var variant = new Option<string>("--variant") { Description = "baseline, tcm or both (both: the same invocation, TCM reported as ratios to the baseline).", DefaultValueFactory = _ => "both" };
        variant.AcceptOnlyFromAmong("baseline", "tcm", "both");
        var protocol = new Option<string>("--protocol") { Description = $"h1 (HTTP/1.1), h2 (HTTP/2, NS and TS channels on one connection) or both. Default {(test.DefaultProtocols.Count > 1 ? "both" : "h1")}." };
        protocol.AcceptOnlyFromAmong("h1", "h2", "both");
        var route = new Option<string>("--route") { Description = $"direct (agents call the Notification Server), gateway (agents prefer CEM: every connection through a CEM gateway in its own process; tcm only, compared with the baseline's direct run) or both. Default {(test.DefaultRoutes.Count > 1 ? "both" : "direct")}." };
        route.AcceptOnlyFromAmong("direct", "gateway", "both");
        var bareRelay = new Option<string>("--bare-relay") { Description = "The baseline's gateway route: on (its bare agents through a bare relay of the same bytes in its own process, the gateway's floor) or off (the baseline runs direct only, and TCM's gateway runs are compared with that, the whole stack's floor). Default on where the test has a relay.", DefaultValueFactory = _ => "on" };
        bareRelay.AcceptOnlyFromAmong("on", "off");
        var taskServer = new Option<bool>("--task-server") { Description = "tcm: run a Task Server (tcm ts, own process) too: every agent holds its NS and Task Server channels (one HTTP/2 connection with h2 through the gateway), tasks go through the Task Server; the baseline's bare agents then hold two WebSockets too (one HTTP/2 connection with h2)." };
        var threshold = new Option<string[]>("--threshold", "-t")
        {
            Description = $"A pass/fail rule, repeatable: '[scenario[/step]:] metric op value', e.g. 'connect: p99 < 250ms', 'fail% < 0.1', 'rps > 100'. Defaults: {string.Join("; ", test.DefaultThresholds)}.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var noDefaults = new Option<bool>("--no-default-thresholds") { Description = "Apply only the --threshold rules." };
        var server = new Option<string>("--server") { Description = "Baseline server in its own process (honest memory figures) or in this one: process or inproc.", DefaultValueFactory = _ => "process" };
        server.AcceptOnlyFromAmong("process", "inproc");
        var ca = new Option<string>("--ca") { Description = "PEM file of the CA that signed a --target server's certificate." };
        var plain = new Option<bool>("--plain") { Description = "Plain progress lines instead of the live table." };
        var shard = new Option<string>("--shard") { Hidden = true, Description = "k/P: run as shard k of P (set by --processes)." };
        var jsonOut = new Option<string>("--json-out") { Hidden = true, Description = "Shard mode: write the JSON result here." };
        var store = new Option<string>("--store") { Description = "tcm: the Notification Server's store: sqlite (the default), postgresql (a throwaway PostgreSQL 15 server the run starts and stops), a comma list of both, or the admin connection string of a PostgreSQL server to make the run's database on. Each runs in the same invocation, beside the one baseline." };
        var nsNodes = new Option<string>("--ns-nodes") { Description = $"tcm: Notification Server nodes (tcm ns processes) on the one PostgreSQL database, or a comma list (1,2: one node, then two, in the same invocation); agents spread evenly over them, fan-outs started on node 1. More than 1 needs --store postgresql. Default 1, at most {NsDeployment.MaxNodes}." };
        var parameters = test.Parameters.Select(p => (p, Option: new Option<string>(p.Name) { Description = $"{char.ToUpperInvariant(p.Description[0])}{p.Description[1..]}.", DefaultValueFactory = _ => p.Default })).ToList();

        Option[] all = [agents, duration, target, report, processes, variant, protocol, route, taskServer, threshold, noDefaults, server, ca, plain, shard, jsonOut];
        foreach (var option in all.Concat(test.NsDeployments ? [store, nsNodes] : []).Concat(test.RelayBaseline ? [bareRelay] : []).Concat(parameters.Select(p => (Option)p.Option)))
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            var errors = new List<string>();
            var agentCount = parse.GetValue(agents);
            if (agentCount < 1)
            {
                errors.Add("--agents must be at least 1.");
            }

            var runFor = test.DefaultDuration;
            if (parse.GetValue(duration) is { } durationText && !DurationText.TryParse(durationText, out runFor))
            {
                errors.Add($"--duration '{durationText}' is not a duration (500ms, 30s, 2m, 1h).");
            }

            var targetText = parse.GetValue(target)!;
            if (targetText != "lab" && !(Uri.TryCreate(targetText, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps))
            {
                errors.Add($"--target must be 'lab' or an https:// URL, not '{targetText}'.");
            }

            var processCount = parse.GetValue(processes);
            if (processCount is < 1 or > 64)
            {
                errors.Add("--processes must be between 1 and 64.");
            }

            var caPath = parse.GetValue(ca);
            if (caPath is not null && !File.Exists(caPath))
            {
                errors.Add($"--ca file '{caPath}' does not exist.");
            }

            var thresholds = parse.GetValue(threshold) ?? [];
            foreach (var text in thresholds)
            {
                try
                {
                    Threshold.Parse(text);
                }
                catch (FormatException ex)
                {
                    errors.Add(ex.Message);
                }
            }

            var values = new Dictionary<string, string>();
            foreach (var (p, option) in parameters)
            {
                var value = parse.GetValue(option) ?? p.Default;
                values[p.Name] = value;
                if (DurationText.TryParse(p.Default, out _) && !DurationText.TryParse(value, out _))
                {
                    errors.Add($"{p.Name} '{value}' is not a duration (500ms, 30s, 2m).");
                }
                else if (int.TryParse(p.Default, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) && !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                {
                    errors.Add($"{p.Name} '{value}' is not a whole number.");
                }
                else if ((p.Default == "search" || p.Default.EndsWith("/s", StringComparison.Ordinal)) && value != "search" && !Tests.RateSearch.TryParseRate(value, out _))
                {
                    errors.Add($"{p.Name} '{value}' is not a rate (2/s, 0.5/s, 30/m).");
                }
            }

            var (shardNumber, shardCount) = (0, 1);
            if (parse.GetValue(shard) is { } shardText)
            {
                var parts = shardText.Split('/');
                if (parts.Length != 2 || !int.TryParse(parts[0], out shardNumber) || !int.TryParse(parts[1], out shardCount) || shardNumber < 0 || shardNumber >= shardCount)
                {
                    errors.Add($"--shard '{shardText}' must be k/P with 0 <= k < P.");
                }
            }

            var variantText = parse.GetValue(variant)!;
            var protocolText = parse.GetValue(protocol);
            var routeText = parse.GetValue(route);
            var relayBaseline = test.RelayBaseline && parse.GetValue(bareRelay) != "off";
            if (routeText == "gateway" && variantText == "baseline" && !relayBaseline)
            {
                errors.Add("--route gateway needs the tcm variant: the baseline has no gateway (its direct run is the floor TCM's gateway runs are compared with).");
            }

            var (deployments, deploymentErrors) = test.NsDeployments ? NsDeployment.Parse(parse.GetValue(store), parse.GetValue(nsNodes)) : ([NsDeployment.Default], []);
            errors.AddRange(deploymentErrors);
            errors.AddRange(DeploymentConflicts(deployments, variantText, targetText, processCount, routeText, parse.GetValue(taskServer)));
            if (errors.Count > 0)
            {
                foreach (var error in errors)
                {
                    await output.WriteLineAsync($"error: {error}").ConfigureAwait(false);
                }

                return ExitCodes.UsageError;
            }

            var options = new RunOptions
            {
                Agents = agentCount,
                Duration = runFor,
                Target = targetText,
                CaPath = caPath,
                ServerInOwnProcess = parse.GetValue(server) != "inproc",
                ReportFolder = parse.GetValue(report),
                Processes = processCount,
                Variants = variantText == "both" ? ["baseline", "tcm"] : [variantText],
                VariantExplicit = variantText != "both",
                Protocols = protocolText switch
                {
                    "h1" => [ChannelProtocol.Http1],
                    "h2" => [ChannelProtocol.Http2],
                    "both" => [ChannelProtocol.Http1, ChannelProtocol.Http2],
                    _ => test.DefaultProtocols,
                },
                TaskServer = parse.GetValue(taskServer),
                BareRelay = relayBaseline,
                Deployments = deployments,
                Routes = routeText switch
                {
                    "direct" => [AgentRoute.Direct],
                    "gateway" => [AgentRoute.Gateway],
                    "both" => [AgentRoute.Direct, AgentRoute.Gateway],
                    // Several nodes run direct only, so they default to it.
                    _ => deployments.Any(d => d.Nodes > 1) ? [AgentRoute.Direct] : test.DefaultRoutes,
                },
                Thresholds = thresholds,
                DefaultThresholds = !parse.GetValue(noDefaults),
                Plain = parse.GetValue(plain),
                Parameters = values,
                Shard = shardNumber,
                Shards = shardCount,
                JsonOut = parse.GetValue(jsonOut),
                CommandLine = "dotnet run -c Release --project loadtests -- " + string.Join(' ', args.Select(Quote)),
            };

            try
            {
                var (exitCode, _) = await new TestHost(test, options, output).RunAsync(ct).ConfigureAwait(false);
                return exitCode;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await output.WriteLineAsync("cancelled").ConfigureAwait(false);
                return ExitCodes.RunError;
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or HttpRequestException or System.Net.Sockets.SocketException)
            {
                await output.WriteLineAsync($"error: the run failed: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.RunError;
            }
        });
        return command;
    }

    /// <summary>What <c>--store</c> and <c>--ns-nodes</c> cannot be combined with: the lab starts the nodes, in this one process, direct.</summary>
    internal static IEnumerable<string> DeploymentConflicts(IReadOnlyList<NsDeployment> deployments, string variant, string target, int processes, string? route, bool taskServer)
    {
        if (deployments is [] || deployments.SequenceEqual([NsDeployment.Default]))
        {
            yield break;
        }

        if (variant == "baseline")
        {
            yield return "--store and --ns-nodes are the tcm variant's: the baseline has no store.";
        }

        if (target != "lab")
        {
            yield return "--store and --ns-nodes start the Notification Server here: they need --target lab.";
        }

        if (processes > 1)
        {
            yield return "--store and --ns-nodes run in one load process: leave out --processes.";
        }

        if (deployments.Any(d => d.Nodes > 1) && (route is "gateway" or "both" || taskServer))
        {
            yield return "--ns-nodes above 1 runs direct and without a Task Server: agents reach their node directly.";
        }
    }

    // why: a connection string given to --store carries a password; the report keeps the command line, not the secret.
    private static string Quote(string arg) => QuoteShown(System.Text.RegularExpressions.Regex.Replace(arg, "(?i)(password|pwd)=[^;]*", "$1=***"));

    private static string QuoteShown(string arg) => arg.Contains(' ', StringComparison.Ordinal) || arg.Contains(';', StringComparison.Ordinal) || arg.Contains('<', StringComparison.Ordinal) || arg.Contains('>', StringComparison.Ordinal) ? $"'{arg}'" : arg;
}
