using Tcm.LoadTests.Baseline.Server;
using Tcm.LoadTests.Harness.Reports;
using Tcm.LoadTests.Harness.Sharding;
using Tcm.LoadTests.Tests;

namespace Tcm.LoadTests.Cli.Sharding;

/// <summary>
/// A variant run as <c>--processes P</c> shard children of this program sharing one server process: starts the shared
/// server, the children (each with its share of the agents), lets them go together once all are ready, and merges their JSON.
/// </summary>
internal sealed class ShardedRun(ILoadTest test, RunOptions options, TextWriter output, TimeProvider time)
{
    /// <summary>The line a shard prints when its agents are ready to start; the parent answers <see cref="GoLine"/>.</summary>
    public const string ShardReadyLine = "SHARD-READY";

    /// <summary>The parent's answer to every shard once all are ready.</summary>
    public const string GoLine = "go";

    /// <summary>Runs every (protocol, route) of <paramref name="runs"/> sharded; shards that wrote nothing are listed in <paramref name="notes"/>.</summary>
    public async Task<VariantReport> RunAsync(ILoadTargetFactory factory, IEnumerable<(ChannelProtocol Protocol, AgentRoute Route)> runs, List<string> notes, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        var merged = new List<ScenarioStats>();
        var description = "";
        var folder = Directory.CreateTempSubdirectory("tcm-shards-").FullName;
        try
        {
            foreach (var (protocol, route) in runs)
            {
                var shared = await factory.StartSharedAsync(options.TargetSettings(protocol, route, output), cancellationToken).ConfigureAwait(false);
                await using (shared.Lifetime.ConfigureAwait(false))
                {
                    var outputs = Enumerable.Range(0, options.Processes).Select(shard => Path.Combine(folder, $"{factory.Variant}-{protocol}-{route}-{shard}.json")).ToList();
                    await RunChildrenAsync(outputs.Select((json, shard) => StartShard(factory.Variant, protocol, route, shard, json, shared.ShardArguments)), cancellationToken).ConfigureAwait(false);
                    var reports = new List<LoadTestReport>();
                    for (var i = 0; i < outputs.Count; i++)
                    {
                        if (File.Exists(outputs[i]))
                        {
                            reports.Add(JsonReport.Read(await File.ReadAllTextAsync(outputs[i], cancellationToken).ConfigureAwait(false)));
                        }
                        else
                        {
                            notes.Add($"shard {i} of {factory.Variant} {protocol} {RunOptions.RouteName(route)} wrote no result");
                        }
                    }

                    var shardVariants = reports.SelectMany(r => r.Variants).ToList();
                    if (shardVariants.FirstOrDefault()?.Target is { } target)
                    {
                        description = description.Length == 0 ? target : description + "; " + target;
                    }

                    merged.AddRange(ShardMerger.MergeScenarios(shardVariants.Select(v => v.Scenarios).ToList()));
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        return new VariantReport
        {
            Variant = factory.Variant,
            Target = $"{description}; {options.Processes} load processes sharing one server process",
            Processes = options.Processes,
            DurationSeconds = time.GetElapsedTime(start).TotalSeconds,
            Scenarios = merged,
        };
    }

    /// <summary>In a shard: says it is ready and waits for the parent's go.</summary>
    public static async Task WaitForGoAsync(CancellationToken cancellationToken)
    {
        Console.Out.WriteLine(ShardReadyLine);
        Console.Out.Flush();
        var line = await Task.Run(Console.In.ReadLine, cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (line is null)
        {
            throw new OperationCanceledException("The parent process went away before the start.");
        }
    }

    /// <summary>Starts the children <paramref name="starts"/> yields, runs them to their end, and kills what is left on the way out.</summary>
    private async Task RunChildrenAsync(IEnumerable<Process> starts, CancellationToken cancellationToken)
    {
        var children = new List<Process>();
        try
        {
            children.AddRange(starts);
            await StartTogetherAsync(children, cancellationToken).ConfigureAwait(false);
            foreach (var child in children)
            {
                await child.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var child in children)
            {
                if (!child.HasExited)
                {
                    child.Kill(entireProcessTree: true);
                }

                child.Dispose();
            }
        }
    }

    private Process StartShard(string variant, ChannelProtocol protocol, AgentRoute route, int shard, string jsonOut, IReadOnlyList<string> sharedArguments)
    {
        var args = new List<string>
        {
            test.Name,
            "--variant", variant,
            "--protocol", protocol == ChannelProtocol.Http2 ? "h2" : "h1",
            "--route", RunOptions.RouteName(route),
            "--agents", options.Agents.ToString(CultureInfo.InvariantCulture),
            "--duration", DurationText.Format(options.Duration),
            "--shard", $"{shard}/{options.Processes}",
            "--json-out", jsonOut,
            "--plain",
        };
        // why: the baseline's shards hold the same channels per agent as TCM's (a second bare WebSocket for the Task Server's).
        if (options.TaskServer)
        {
            args.Add("--task-server");
        }

        args.AddRange(sharedArguments);
        foreach (var (name, value) in options.Parameters)
        {
            args.AddRange([name, value]);
        }

        var start = SelfLauncher.StartInfo(args);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a shard process.");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.WriteLine($"[shard {shard}] {e.Data}");
            }
        };
        process.BeginErrorReadLine();
        return process;
    }

    private async Task StartTogetherAsync(IReadOnlyList<Process> children, CancellationToken cancellationToken)
    {
        var ready = children.Select((child, shard) => ForwardUntilReadyAsync(child, shard, cancellationToken)).ToList();
        await Task.WhenAll(ready).ConfigureAwait(false);
        foreach (var child in children)
        {
            await child.StandardInput.WriteLineAsync(GoLine).ConfigureAwait(false);
            await child.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        _ = Task.WhenAll(children.Select((child, shard) => ForwardRestAsync(child, shard)));
    }

    private async Task ForwardUntilReadyAsync(Process child, int shard, CancellationToken cancellationToken)
    {
        while (await child.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line == ShardReadyLine)
            {
                return;
            }

            output.WriteLine($"[shard {shard}] {line}");
        }

        throw new InvalidOperationException($"Shard {shard} ended before it was ready (exit code {(child.HasExited ? child.ExitCode : -1)}).");
    }

    private async Task ForwardRestAsync(Process child, int shard)
    {
        try
        {
            while (await child.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                output.WriteLine($"[shard {shard}] {line}");
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The shard ended.
        }
    }
}
