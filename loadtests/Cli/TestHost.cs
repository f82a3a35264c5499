using Tcm.LoadTests.Cli.Sharding;
using Tcm.LoadTests.Harness.Progress;
using Tcm.LoadTests.Harness.Reports;
using Tcm.LoadTests.Harness.Thresholds;
using Tcm.LoadTests.Tests;

namespace Tcm.LoadTests.Cli;

/// <summary>
/// Runs one load test for every requested variant and protocol (each run a fresh target), in this process or as
/// <c>--processes P</c> shard children whose JSON it merges (<see cref="ShardedRun"/>); then evaluates thresholds, computes
/// TCM/baseline ratios and writes the reports.
/// </summary>
internal sealed class TestHost
{
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
            var skipped = !_test.Variants.Contains(factory.Variant, StringComparer.OrdinalIgnoreCase)
                ? $"{_test.Name} has no {factory.Variant} variant (it compares {string.Join(" and ", _test.Variants)} only)"
                : factory.UnavailableReason;
            if (skipped is not null)
            {
                if (_options.VariantExplicit)
                {
                    _out.WriteLine($"error: cannot run variant '{variantName}': {skipped}.");
                    return (ExitCodes.UsageError, null);
                }

                notes.Add($"variant '{variantName}' skipped: {skipped}");
                _out.WriteLine($"note: variant '{variantName}' skipped: {skipped}.");
                continue;
            }

            if (_options.Routes.Except(RoutesOf(factory)).Any() && !_options.IsShard)
            {
                var missing = string.Join(", ", _options.Routes.Except(RoutesOf(factory)).Select(RunOptions.RouteName));
                notes.Add($"variant '{factory.Variant}' has no {missing} route: it runs direct instead{(factory.Variant == "baseline" ? ", the floor of the stack TCM's gateway runs are compared with" : "")}");
            }

            variants.Add(_options.Processes > 1 && !_options.IsShard
                ? await new ShardedRun(_test, _options, _out, _time).RunAsync(factory, Runs(factory), notes, cancellationToken).ConfigureAwait(false)
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
        ConsoleSummary.Print(report, files, _out, _options.Plain);
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
            ["routes"] = string.Join(", ", _options.Routes.Select(RunOptions.RouteName)),
            ["task server"] = _options.TaskServer ? "yes (tcm; the baseline holds a second bare WebSocket per agent for it)" : "no",
            ["target"] = _options.Target,
            ["processes"] = _options.Processes.ToString(CultureInfo.InvariantCulture),
        };
        if (_options.Deployments is not [{ Store: Tcm.Lab.Storage.StoreKind.Sqlite, Nodes: 1 }])
        {
            settings["ns deployments"] = string.Join("; ", _options.Deployments.Select(d => d.Description));
        }

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
        foreach (var (protocol, route, deployment) in from run in Runs(factory)
                                                     from deployment in factory.HasDeployments ? _options.Deployments : [NsDeployment.Default]
                                                     select (run.Protocol, run.Route, deployment))
        {
            var settings = _options.TargetSettings(protocol, route, _options.IsShard ? TextWriter.Null : _out, deployment);
            await using var target = factory.Create(settings);
            await target.StartAsync(cancellationToken).ConfigureAwait(false);
            description = description.Length == 0 ? target.Description : description + "; " + target.Description;
            var context = new TestContext(target, settings, share, offset) { Duration = _options.Duration, Time = _time, Log = _out, Parameters = _options.Parameters };
            var title = $"{_test.Name} {factory.Variant} {context.ProtocolName} {RunOptions.RouteName(route)}{deployment.ScenarioSuffix}{(_options.IsShard ? $" shard {_options.Shard}" : "")}";
            await using var progress = new LiveProgress(_options.Plain || _options.IsShard, _out, _time);
            progress.Start(title);
            var runner = LoadTestRunner.RegisterScenarios([.. _test.Build(context)])
                .WithTimeProvider(_time)
                .WithMaxDuration(_options.Duration + TimeSpan.FromMinutes(5))
                .WithProgress(progress.Update);
            if (_options.IsShard)
            {
                runner = runner.WithStartGate(ShardedRun.WaitForGoAsync);
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

    /// <summary>
    /// The runs of a variant: every requested protocol, and every requested route the variant has; a route it lacks is run
    /// direct instead (the baseline's direct run is what TCM's gateway run is compared with), each route once.
    /// </summary>
    private IEnumerable<(ChannelProtocol Protocol, AgentRoute Route)> Runs(ILoadTargetFactory factory) =>
        from protocol in _options.Protocols
        from route in _options.Routes.Select(r => RoutesOf(factory).Contains(r) ? r : AgentRoute.Direct).Distinct()
        select (protocol, route);

    /// <summary>
    /// The routes a variant runs here: its own, and for a test with <see cref="ILoadTest.RelayBaseline"/> the baseline's gateway
    /// route through its bare relay, which the lab starts in one load process (a sharded or attached baseline runs direct).
    /// </summary>
    private IReadOnlyList<AgentRoute> RoutesOf(ILoadTargetFactory factory) =>
        factory.Variant == "baseline" && _test.RelayBaseline && _options.BareRelay && _options.Processes == 1 && !_options.IsShard && _options.Target == "lab"
            ? LoadTestInfo.DirectAndGateway
            : factory.Routes;

    /// <summary>The agents of shard <paramref name="shard"/> of <paramref name="shards"/>, and its first agent number.</summary>
    internal static (int Count, int Offset) Share(int agents, int shard, int shards)
    {
        var baseShare = agents / shards;
        var extra = agents % shards;
        var count = baseShare + (shard < extra ? 1 : 0);
        var offset = shard * baseShare + Math.Min(shard, extra);
        return (count, offset);
    }
}
