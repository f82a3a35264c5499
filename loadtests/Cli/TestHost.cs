using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Tcm.LoadTests.Baseline.Server;
using Tcm.LoadTests.Harness;
using Tcm.LoadTests.Harness.Progress;
using Tcm.LoadTests.Harness.Reports;
using Tcm.LoadTests.Harness.Sharding;
using Tcm.LoadTests.Harness.Statistics;
using Tcm.LoadTests.Harness.Thresholds;
using Tcm.LoadTests.Tests;
using Tcm.LoadTests.Variants;

namespace Tcm.LoadTests.Cli;

/// <summary>Exit codes of the load-test command.</summary>
internal static class ExitCodes
{
    public const int Passed = 0;
    public const int ThresholdsFailed = 1;
    public const int UsageError = 2;
    public const int RunError = 3;
}

/// <summary>
/// Runs one load test for every requested variant and protocol (each run a fresh target), in this process or as
/// <c>--processes P</c> shard children whose JSON it merges; then evaluates thresholds, computes TCM/baseline ratios and
/// writes the reports.
/// </summary>
internal sealed class TestHost
{
    /// <summary>The line a shard prints when its agents are ready to start; the parent answers <see cref="GoLine"/>.</summary>
    public const string ShardReadyLine = "SHARD-READY";

    /// <summary>The parent's answer to every shard once all are ready.</summary>
    public const string GoLine = "go";

    private readonly ILoadTest _test;
    private readonly RunOptions _options;
    private readonly TextWriter _out;
    private readonly TimeProvider _time;

    public TestHost(ILoadTest test, RunOptions options, TextWriter output, TimeProvider? time = null)
    {
        _test = test;
        _options = options;
        _out = output;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Runs the test; the report, or null when a shard wrote only its JSON.</summary>
    public async Task<(int ExitCode, LoadTestReport? Report)> RunAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetUtcNow();
        var startTimestamp = _time.GetTimestamp();
        var notes = new List<string>();
        var variants = new List<VariantReport>();
        foreach (var variantName in _options.Variants)
        {
            var factory = VariantCatalog.Find(variantName)!;
            if (!_test.Variants.Contains(factory.Variant, StringComparer.OrdinalIgnoreCase))
            {
                var reason = $"{_test.Name} has no {factory.Variant} variant (it compares {string.Join(" and ", _test.Variants)} only)";
                if (_options.VariantExplicit)
                {
                    _out.WriteLine($"error: cannot run variant '{variantName}': {reason}.");
                    return (ExitCodes.UsageError, null);
                }

                notes.Add($"variant '{variantName}' skipped: {reason}");
                _out.WriteLine($"note: variant '{variantName}' skipped: {reason}.");
                continue;
            }

            if (factory.UnavailableReason is { } why)
            {
                if (_options.VariantExplicit)
                {
                    _out.WriteLine($"error: cannot run variant '{variantName}': {why}.");
                    return (ExitCodes.UsageError, null);
                }

                notes.Add($"variant '{variantName}' skipped: {why}");
                _out.WriteLine($"note: variant '{variantName}' skipped: {why}.");
                continue;
            }

            if (_options.Routes.Except(factory.Routes).Any() && !_options.IsShard)
            {
                var missing = string.Join(", ", _options.Routes.Except(factory.Routes).Select(RouteName));
                notes.Add($"variant '{factory.Variant}' has no {missing} route: it runs direct instead{(factory.Variant == "baseline" ? ", the floor of the stack TCM's gateway runs are compared with" : "")}");
            }

            variants.Add(_options.Processes > 1 && !_options.IsShard
                ? await RunShardedAsync(factory, notes, cancellationToken).ConfigureAwait(false)
                : await RunHereAsync(factory, cancellationToken).ConfigureAwait(false));
        }

        var report = new LoadTestReport
        {
            Test = _test.Name,
            Description = _test.Description,
            CommandLine = _options.CommandLine,
            StartedUtc = started,
            DurationSeconds = _time.GetElapsedTime(startTimestamp).TotalSeconds,
            Settings = Settings(),
            Variants = variants,
            Notes = notes,
        };

        if (_options.IsShard)
        {
            await File.WriteAllTextAsync(_options.JsonOut!, JsonReport.Write(report), cancellationToken).ConfigureAwait(false);
            return (ExitCodes.Passed, report);
        }

        report = Evaluate(report);
        var folder = _options.ReportFolder ?? Path.Combine("reports", $"{_test.Name}-{started:yyyyMMdd-HHmmss}");
        var files = await ReportWriter.WriteAllAsync(report, folder, cancellationToken).ConfigureAwait(false);
        PrintSummary(report, files);
        return (report.Passed ? ExitCodes.Passed : ExitCodes.ThresholdsFailed, report);
    }

    /// <summary>Adds thresholds and ratios to a report.</summary>
    internal LoadTestReport Evaluate(LoadTestReport report)
    {
        var texts = (_options.DefaultThresholds ? _test.DefaultThresholds : []).Concat(_options.Thresholds).ToList();
        var thresholds = texts.Select(Threshold.Parse).ToList();
        var results = report.Variants
            .SelectMany(v => thresholds.SelectMany(t => t.Evaluate(v.Scenarios, v.Variant)))
            .ToList();
        var baseline = report.Variants.FirstOrDefault(v => v.Variant == "baseline");
        var tcm = report.Variants.FirstOrDefault(v => v.Variant == "tcm");
        return report with
        {
            Thresholds = results,
            Ratios = baseline is not null && tcm is not null ? Ratios.Compute(baseline, tcm) : [],
        };
    }

    private Dictionary<string, string> Settings()
    {
        var settings = new Dictionary<string, string>
        {
            ["agents"] = _options.Agents.ToString("N0", CultureInfo.InvariantCulture),
            ["duration"] = $"{DurationText.Format(_options.Duration)} ({_test.DurationMeaning})",
            ["protocols"] = string.Join(", ", _options.Protocols.Select(p => p == ChannelProtocol.Http2 ? "HTTP/2" : "HTTP/1.1")),
            ["routes"] = string.Join(", ", _options.Routes.Select(RouteName)),
            ["task server"] = _options.TaskServer ? "yes (tcm)" : "no",
            ["target"] = _options.Target,
            ["processes"] = _options.Processes.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in _options.Parameters)
        {
            settings[key.TrimStart('-')] = value;
        }

        return settings;
    }

    private async Task<VariantReport> RunHereAsync(ILoadTargetFactory factory, CancellationToken cancellationToken)
    {
        var (share, offset) = Share(_options.Agents, _options.Shard, _options.Shards);
        var scenarios = new List<ScenarioStats>();
        string? stopReason = null;
        var description = "";
        var start = _time.GetTimestamp();
        foreach (var (protocol, route) in Runs(factory))
        {
            var settings = new TargetSettings
            {
                Protocol = protocol,
                Route = route,
                TaskServer = _options.TaskServer,
                Target = _options.Target,
                ServerInOwnProcess = _options.ServerInOwnProcess,
                CaCertificatePath = _options.CaPath,
                Shard = _options.Shard,
                Shards = _options.Shards,
                Log = _options.IsShard ? TextWriter.Null : _out,
            };
            await using var target = factory.Create(settings);
            await target.StartAsync(cancellationToken).ConfigureAwait(false);
            description = description.Length == 0 ? target.Description : description + "; " + target.Description;
            var context = new TestContext
            {
                Target = target,
                Protocol = protocol,
                Route = route,
                Agents = share,
                AgentOffset = offset,
                Duration = _options.Duration,
                Shard = _options.Shard,
                Shards = _options.Shards,
                Time = _time,
                Log = _out,
                Parameters = _options.Parameters,
            };
            var title = $"{_test.Name} {factory.Variant} {(protocol == ChannelProtocol.Http2 ? "h2" : "h1")} {RouteName(route)}{(_options.IsShard ? $" shard {_options.Shard}" : "")}";
            await using var progress = new LiveProgress(_options.Plain || _options.IsShard, _out, _time);
            progress.Start(title);
            var runner = LoadTestRunner.RegisterScenarios([.. _test.Build(context)])
                .WithTimeProvider(_time)
                .WithMaxDuration(_options.Duration + TimeSpan.FromMinutes(5))
                .WithProgress(progress.Update);
            if (_options.IsShard)
            {
                runner = runner.WithStartGate(WaitForGoAsync);
            }

            var result = await runner.RunAsync(cancellationToken).ConfigureAwait(false);
            stopReason ??= result.StopReason;
            scenarios.AddRange(result.Scenarios);
        }

        return new VariantReport
        {
            Variant = factory.Variant,
            Target = description,
            Processes = 1,
            StopReason = stopReason,
            DurationSeconds = _time.GetElapsedTime(start).TotalSeconds,
            Scenarios = scenarios,
        };
    }

    private async Task WaitForGoAsync(CancellationToken cancellationToken)
    {
        Console.Out.WriteLine(ShardReadyLine);
        Console.Out.Flush();
        var line = await Task.Run(Console.In.ReadLine, cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (line is null)
        {
            throw new OperationCanceledException("The parent process went away before the start.");
        }
    }

    private async Task<VariantReport> RunShardedAsync(ILoadTargetFactory factory, List<string> notes, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        var merged = new List<ScenarioStats>();
        var description = "";
        var folder = Directory.CreateTempSubdirectory("tcm-shards-").FullName;
        try
        {
            foreach (var (protocol, route) in Runs(factory))
            {
                var settings = new TargetSettings { Protocol = protocol, Route = route, TaskServer = _options.TaskServer, Target = _options.Target, CaCertificatePath = _options.CaPath, Log = _out };
                var shared = await factory.StartSharedAsync(settings, cancellationToken).ConfigureAwait(false);
                await using (shared.Lifetime.ConfigureAwait(false))
                {
                    var outputs = new List<string>();
                    var children = new List<Process>();
                    try
                    {
                        for (var shard = 0; shard < _options.Processes; shard++)
                        {
                            var json = Path.Combine(folder, $"{factory.Variant}-{protocol}-{route}-{shard}.json");
                            outputs.Add(json);
                            children.Add(StartShard(factory.Variant, protocol, route, shard, json, shared.ShardArguments));
                        }

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

                    var reports = new List<LoadTestReport>();
                    for (var i = 0; i < outputs.Count; i++)
                    {
                        if (File.Exists(outputs[i]))
                        {
                            reports.Add(JsonReport.Read(await File.ReadAllTextAsync(outputs[i], cancellationToken).ConfigureAwait(false)));
                        }
                        else
                        {
                            notes.Add($"shard {i} of {factory.Variant} {protocol} {RouteName(route)} wrote no result");
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
            Target = $"{description}; {_options.Processes} load processes sharing one server process",
            Processes = _options.Processes,
            DurationSeconds = _time.GetElapsedTime(start).TotalSeconds,
            Scenarios = merged,
        };
    }

    /// <summary>
    /// The runs of a variant: every requested protocol, and every requested route the variant has; a route it lacks is run
    /// direct instead (the baseline's direct run is what TCM's gateway run is compared with), each route once.
    /// </summary>
    private IEnumerable<(ChannelProtocol Protocol, AgentRoute Route)> Runs(ILoadTargetFactory factory) =>
        from protocol in _options.Protocols
        from route in _options.Routes.Select(r => factory.Routes.Contains(r) ? r : AgentRoute.Direct).Distinct()
        select (protocol, route);

    private static string RouteName(AgentRoute route) => route == AgentRoute.Gateway ? "gateway" : "direct";

    private Process StartShard(string variant, ChannelProtocol protocol, AgentRoute route, int shard, string jsonOut, IReadOnlyList<string> sharedArguments)
    {
        var args = new List<string>
        {
            _test.Name,
            "--variant", variant,
            "--protocol", protocol == ChannelProtocol.Http2 ? "h2" : "h1",
            "--route", RouteName(route),
            "--agents", _options.Agents.ToString(CultureInfo.InvariantCulture),
            "--duration", DurationText.Format(_options.Duration),
            "--shard", $"{shard}/{_options.Processes}",
            "--json-out", jsonOut,
            "--plain",
        };
        if (_options.TaskServer)
        {
            args.Add("--task-server");
        }

        args.AddRange(sharedArguments);
        foreach (var (name, value) in _options.Parameters)
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
                _out.WriteLine($"[shard {shard}] {e.Data}");
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

            _out.WriteLine($"[shard {shard}] {line}");
        }

        throw new InvalidOperationException($"Shard {shard} ended before it was ready (exit code {(child.HasExited ? child.ExitCode : -1)}).");
    }

    private async Task ForwardRestAsync(Process child, int shard)
    {
        try
        {
            while (await child.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                _out.WriteLine($"[shard {shard}] {line}");
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The shard ended.
        }
    }

    /// <summary>The agents of shard <paramref name="shard"/> of <paramref name="shards"/>, and its first agent number.</summary>
    internal static (int Count, int Offset) Share(int agents, int shard, int shards)
    {
        var baseShare = agents / shards;
        var extra = agents % shards;
        var count = baseShare + (shard < extra ? 1 : 0);
        var offset = shard * baseShare + Math.Min(shard, extra);
        return (count, offset);
    }

    private void PrintSummary(LoadTestReport report, IReadOnlyList<string> files)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(_out), Ansi = _options.Plain || Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect });
        if (_options.Plain || Console.IsOutputRedirected)
        {
            console.Profile.Width = 200;
        }

        foreach (var variant in report.Variants)
        {
            foreach (var scenario in variant.Scenarios)
            {
                var table = new Table().Border(TableBorder.Simple).Title($"{scenario.Name} ({variant.Variant})");
                foreach (var column in new[] { "step", "count", "ok", "fail", "fail %", "rps", "p50 ms", "p99 ms", "max ms" })
                {
                    table.AddColumn(new TableColumn(column).RightAligned());
                }

                foreach (var step in scenario.Steps.Prepend(scenario.Iterations))
                {
                    var l = step.Ok.Latency;
                    table.AddRow(
                        Markup.Escape(step == scenario.Iterations ? "(iteration)" : step.Name),
                        step.Count.ToString("N0", CultureInfo.InvariantCulture),
                        step.Ok.Count.ToString("N0", CultureInfo.InvariantCulture),
                        step.Fail.Count.ToString("N0", CultureInfo.InvariantCulture),
                        Format.Invariant(step.Fail.Percent, "0.##"),
                        Format.Number(step.Rps),
                        Format.Ms(l.P50Ms),
                        Format.Ms(l.P99Ms),
                        Format.Ms(l.MaxMs));
                }

                console.Write(table);
                foreach (var gauge in scenario.Gauges)
                {
                    console.WriteLine($"  {gauge.Name}: {Format.Gauge(gauge.Value, gauge.Unit)}");
                }
            }
        }

        foreach (var threshold in report.Thresholds)
        {
            console.WriteLine($"{(threshold.Passed ? "pass" : "FAIL")}  [{threshold.Variant}] {threshold.Target}: {threshold.Text}  ({threshold.Actual})");
        }

        foreach (var row in report.Ratios)
        {
            console.WriteLine($"tcm/baseline {row.Scenario} {row.Metric}: {Format.Ratio(row.Ratio)}");
        }

        console.WriteLine($"{(report.Passed ? "PASSED" : "FAILED")}: reports in {Path.GetDirectoryName(Path.GetFullPath(files[0]))}");
    }
}
