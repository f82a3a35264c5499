using System.Net;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tcm.Simulator.Fleet;
using Tcm.Simulator.Reports;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Engine;

/// <summary>
/// Runs a scenario: starts the system (an in-process lab, or connects to an external one), builds the fleet of virtual
/// agents over simulated networks, plays the timeline, watches the fleet and the pushes, decides the expectations,
/// and returns the report.
/// </summary>
/// <remarks>
/// Steps, marked in the body:
/// 1. fleet and network topology; 2. the system under test; 3. admin set-up from the scenario (TCM, settings, profiles);
/// 4. virtual agents; 5. the loop: fire due events, refresh pushes, snapshot the fleet, feed expectations, publish progress;
/// 6. settle and stop; 7. the report.
/// </remarks>
internal sealed class ScenarioRunner : IScenarioRunner
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    /// <summary>Open-socket ceiling for the simulated network: under the process's 20,000 open files, with room for the lab's own.</summary>
    private const int MaxOpenSockets = 19_000;

    /// <summary>How long the fleet must be quiet before the process is measured.</summary>
    private static readonly TimeSpan QuietFor = TimeSpan.FromSeconds(1);

    /// <summary>How long the measurement waits for a quiet fleet at most; then it measures anyway and says so.</summary>
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// What this machine lacks to run <paramref name="scenario"/>, or null: a lab on PostgreSQL needs <c>TCM_TEST_POSTGRES</c> (a server's
    /// admin connection string) or PostgreSQL's programs to start a throwaway server of its own (<see cref="Tcm.Lab.Storage.StoreSelection"/>).
    /// </summary>
    public static string? MissingPrerequisite(Scenario scenario) =>
        scenario.System is LabSystem lab && (lab.Store ?? Tcm.Lab.Storage.StoreSelection.Selected) == Tcm.Lab.Storage.StoreKind.PostgreSql
            ? Tcm.Lab.Storage.StoreSelection.UnavailableReason
            : null;

    public async Task<SimulationReport> RunAsync(Scenario scenario, RunOptions options, CancellationToken cancellationToken)
    {
        if (scenario.Fleet.Legacy != LegacyMode.Compare)
        {
            return await RunOnceAsync(scenario, options, "run.log", legacy: null, cancellationToken);
        }

        // The same fleet, seed and timeline twice: first as before TCM (pure HTTP polling), then with TCM; the TCM
        // report carries the legacy traffic so expectations such as "requests-per-agent-hour <= legacy / 20" can be judged.
        Publish(options, s => s with { Phase = "legacy run (pure HTTP polling)" });
        var legacy = await RunOnceAsync(scenario with { Fleet = scenario.Fleet with { Legacy = LegacyMode.On } }, options, "legacy-run.log", legacy: null, cancellationToken);
        var tcm = await RunOnceAsync(scenario with { Fleet = scenario.Fleet with { Legacy = LegacyMode.Off } }, options, "run.log", legacy, cancellationToken);
        return tcm with
        {
            LegacyTraffic = legacy.Traffic,
            LegacyTrafficAfter = legacy.TrafficAfter,
            Notes = [.. tcm.Notes, $"legacy run of the same fleet: {legacy.Traffic.Requests:N0} requests, {legacy.Traffic.RequestsPerAgentHour:N1} per agent-hour; it ended: {legacy.EndReason}"],
        };
    }

    private async Task<SimulationReport> RunOnceAsync(Scenario scenario, RunOptions options, string logFile, SimulationReport? legacy, CancellationToken cancellationToken)
    {
        var seed = options.SeedFor(scenario);
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(options.ReportDirectory);
        using var fileLog = new FileLoggerProvider(Path.Combine(options.ReportDirectory, logFile), options.Verbose ? LogLevel.Information : LogLevel.Warning);
        using var loggers = options.LoggerFactory is null ? LoggerFactory.Create(b => b.AddProvider(fileLog).SetMinimumLevel(LogLevel.Trace)) : null;
        var loggerFactory = options.LoggerFactory ?? loggers!;
        var log = loggerFactory.CreateLogger<ScenarioRunner>();
        var notes = new List<string>();

        // :: Step 1: the fleet and the network it lives in
        var fleet = FleetBuilder.Build(scenario, seed, options.Agents, options.Shard);
        var topology = new NetworkTopology { MaxOpenSockets = MaxOpenSockets };
        Publish(options, s => s with { Phase = "starting the system", Scenario = scenario.Name, Duration = scenario.Duration, Agents = fleet.Agents.Count, EventsTotal = scenario.Timeline.Count, ExpectationsTotal = scenario.Expectations.Count });

        // :: Step 2: the system under test
        var dataDirectory = Path.Combine(Path.GetTempPath(), "tcm-sim", $"{scenario.Name}-{Guid.NewGuid():N}"[..Math.Min(scenario.Name.Length + 13, 60)]);
        await using ISystemUnderTest system = scenario.System switch
        {
            LabSystem lab => await InProcessLab.StartAsync(
                new LabOptions
                {
                    Tcm = lab.Tcm && scenario.Fleet.Legacy != LegacyMode.On,
                    TaskServers = lab.TaskServers,
                    Gateway = lab.Gateway,
                    Store = lab.Store,
                    NotificationServerNodes = lab.NsNodes,
                    Proxy = lab.Proxy is { } proxy
                        ? new LabProxyOptions { Reach = proxy.Reach, Credentials = proxy.Credentials ? new NetworkCredential("tcm-agent", "lab-proxy-password") : null }
                        : null,
                },
                topology, dataDirectory, options.KeepRunning, loggerFactory, cancellationToken),
            Scenarios.ExternalSystem external => await ExternalSystem.ConnectAsync(external, topology, cancellationToken),
            _ => throw new NotSupportedException(scenario.System.GetType().Name),
        };
        notes.Add(system.Description);
        // :: Step 3: the administrator's set-up the scenario asks for
        await RunSetup.ConfigureAsync(system.Admin, system.Cem, system.Proxy, scenario, fleet, notes, cancellationToken);

        // :: Step 4: virtual agents (created now, started by the timeline)
        var (managedBefore, _, workingSetBefore) = MeasureProcess();
        var groupCounters = fleet.GroupCounts.Keys.ToDictionary(g => g, _ => new TrafficCounters(), StringComparer.OrdinalIgnoreCase);
        var agents = RunSetup.CreateAgents(fleet, topology, groupCounters, system.Package, options, loggerFactory);
        var actions = new ActionTracker(system.Admin);
        var evaluator = new ExpectationEvaluator(scenario.Expectations);
        var reconnects = new ReconnectTracker(scenario);
        var byNode = scenario.System is LabSystem { NsNodes: > 1 };
        var nodeMoves = new NodeMoves(agents.Count);
        var timeline = new Timeline(scenario.Timeline).WithClock(() => clock.Elapsed.TotalSeconds);
        var samples = new List<ModeSample>();
        var background = new List<Task>();
        var endReason = "completed";
        FleetSnapshot snapshot = FleetSnapshot.Take(agents, 0);
        // Traffic snapshots at the events that traffic expectations measure from ("requests-per-agent-hour ... after ready").
        var windowEvents = scenario.Expectations.OfType<TrafficExpectation>().Select(t => t.AfterEventId).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var trafficAt = new Dictionary<string, TrafficReport>(StringComparer.Ordinal);

        // :: Step 5: the loop. The scenario's clock starts here: "at: 0s" is when the system is up and the fleet is built.
        clock.Restart();
        using var tick = new PeriodicTimer(Tick);
        var nextSample = 0.0;
        try
        {
            while (true)
            {
                var now = clock.Elapsed.TotalSeconds;
                snapshot = FleetSnapshot.Take(agents, now);
                foreach (var due in timeline.Due(now, snapshot, actions))
                {
                    Publish(options, s => s with { LastEvent = due.Event.ToString() });
                    background.Add(EventActions.FireAsync(due, agents, system, actions, scenario, seed, now, log, cancellationToken));
                }

                evaluator.Observe(snapshot, timeline.FiredAt, timeline.HappenedAt);
                reconnects.Observe(snapshot, timeline.HappenedAt);
                if (byNode)
                {
                    nodeMoves.Observe(snapshot);
                }

                foreach (var id in windowEvents)
                {
                    if (!trafficAt.ContainsKey(id) && timeline.HappenedAt(id) is not null)
                    {
                        trafficAt[id] = BuildTraffic(agents, topology, groupCounters);
                    }
                }

                if (now >= nextSample)
                {
                    var current = snapshot.ToSample(topology.OpenSockets, byNode);
                    samples.Add(current);
                    nextSample = Math.Floor(now) + 1;
                    await actions.RefreshAsync(cancellationToken);
                    PublishProgress(options, timeline, current, actions, evaluator, clock.Elapsed);
                }

                if (clock.Elapsed >= scenario.Duration)
                {
                    endReason = timeline.AllDone ? "completed" : "duration";
                    break;
                }

                if (timeline.AllDone && actions.AllSettled && evaluator.WindowsDecided && reconnects.Decided && !options.KeepRunning)
                {
                    break;
                }

                await tick.WaitForNextTickAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            endReason = "cancelled";
        }

        // :: Step 6: settle, read the last figures, stop the fleet
        Publish(options, s => s with { Phase = "stopping" });
        await Task.WhenAll(background.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        await actions.RefreshAsync(CancellationToken.None);
        snapshot = FleetSnapshot.Take(agents, clock.Elapsed.TotalSeconds);
        samples.Add(snapshot.ToSample(topology.OpenSockets, byNode));
        var receivesAtEnd = topology.ReceivesHoldingBuffer;
        var settled = await SettleAsync(agents, topology, cancellationToken);
        var (managedWithFleet, fragmentedWithFleet, workingSetWithFleet) = MeasureProcess();
        var sample = snapshot.ToSample(topology.OpenSockets, byNode);
        if (byNode)
        {
            notes.Add(nodeMoves.Note(snapshot));
        }

        var process = new ProcessFigures
        {
            AgentsRunning = sample.Running,
            AgentsPersistent = sample.Persistent,
            ServersInProcess = scenario.System is LabSystem,
            ManagedBytesBefore = managedBefore,
            ManagedBytesWithFleet = managedWithFleet,
            FragmentedBytesWithFleet = fragmentedWithFleet,
            WorkingSetBefore = workingSetBefore,
            WorkingSetWithFleet = workingSetWithFleet,
            PeakOpenSockets = topology.PeakOpenSockets,
            Settled = settled,
            ReceivesHoldingBuffer = topology.ReceivesHoldingBuffer,
            ReceivesHoldingBufferAtEnd = receivesAtEnd,
            CpuSeconds = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
        };
        var pendingResults = agents.Sum(a => a.Agent?.PendingResults ?? 0);
        var duplicateExecutions = agents.Sum(a => a.Executions.Count(e => e.Value > 1));
        var traffic = BuildTraffic(agents, topology, groupCounters);
        var reconnectSpreads = reconnects.Results();
        var trafficAfter = trafficAt.ToDictionary(kv => kv.Key, kv => traffic.Minus(kv.Value), StringComparer.Ordinal);
        var facts = new RunFacts
        {
            Actions = actions,
            Traffic = traffic,
            LegacyTraffic = legacy?.Traffic,
            TrafficAfter = trafficAfter,
            LegacyTrafficAfter = legacy?.TrafficAfter,
            PendingResultsAtEnd = pendingResults,
            DuplicateExecutions = duplicateExecutions,
            Reconnects = reconnectSpreads,
        };
        var results = evaluator.Final(snapshot, facts);
        await StopAgentsAsync(agents);

        // :: Step 7: the report
        return new SimulationReport
        {
            Scenario = scenario.Name,
            Description = scenario.Description,
            ScenarioFile = options.ScenarioPath,
            Seed = seed,
            Agents = agents.Count,
            Shard = options.Shard?.ToString(),
            System = scenario.System is LabSystem ? "lab" : "external",
            Legacy = scenario.Fleet.Legacy == LegacyMode.On,
            StartedAt = started,
            EndedAt = DateTimeOffset.UtcNow,
            EndReason = endReason,
            Timeline = timeline.Entries(),
            Samples = samples,
            Actions = actions.All.Select(a => a.ToReport()).ToArray(),
            Reconnects = reconnectSpreads.Values.OrderBy(r => r.At).ToArray(),
            Traffic = traffic,
            TrafficAfter = trafficAfter,
            Expectations = results,
            Notes = notes,
            Process = process,
        };
    }

    /// <summary>
    /// Waits, up to <see cref="SettleLimit"/>, until the fleet has been quiet for <see cref="QuietFor"/>: no result waiting for its
    /// acknowledgement and no simulated socket with a receive buffer in flight. The run ends when the last result is stored, while
    /// its acknowledgements are still on their way; measured then, the heap counts those receives (an idle agent holds none).
    /// </summary>
    /// <returns>How long it waited, and whether the fleet was quiet (false: the limit passed or the run was cancelled).</returns>
    private static async Task<SettleFigures> SettleAsync(IReadOnlyList<VirtualAgent> agents, NetworkTopology topology, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        var quietSince = (TimeSpan?)null;
        using var tick = new PeriodicTimer(Tick);
        while (!cancellationToken.IsCancellationRequested && waited.Elapsed < SettleLimit)
        {
            var quiet = topology.ReceivesHoldingBuffer == 0 && agents.All(a => (a.Agent?.PendingResults ?? 0) == 0);
            quietSince = quiet ? quietSince ?? waited.Elapsed : null;
            if (waited.Elapsed - quietSince >= QuietFor)
            {
                return new SettleFigures(waited.Elapsed.TotalSeconds, Quiet: true, QuietFor.TotalSeconds);
            }

            try
            {
                await tick.WaitForNextTickAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        return new SettleFigures(waited.Elapsed.TotalSeconds, Quiet: false, QuietFor.TotalSeconds);
    }

    /// <summary>
    /// The live managed heap as a full, compacting collection left it, its fragmentation, and the working set: the figures per agent
    /// are differences of these. Live bytes are read from that collection itself (heap size less fragmentation), not from
    /// <see cref="GC.GetTotalMemory"/>, which also counts the free space pinned objects leave and what the running fleet allocated
    /// since the collection.
    /// </summary>
    private static (long Managed, long Fragmented, long WorkingSet) MeasureProcess()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var collection = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        using var self = Process.GetCurrentProcess();
        return (collection.HeapSizeBytes - collection.FragmentedBytes, collection.FragmentedBytes, self.WorkingSet64);
    }

    private static async Task StopAgentsAsync(IReadOnlyList<VirtualAgent> agents) =>
        await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = 128 }, async (a, _) => await a.DisposeAsync());

    /// <summary>The run's traffic now, and each group's: the simulated network's counters, the agents' requests by kind over all their runs.</summary>
    private static TrafficReport BuildTraffic(IReadOnlyList<VirtualAgent> agents, NetworkTopology topology, IReadOnlyDictionary<string, TrafficCounters> groupCounters)
    {
        var now = DateTimeOffset.UtcNow;
        var all = new Dictionary<string, long>(StringComparer.Ordinal);
        var groups = new Dictionary<string, TrafficReport>(StringComparer.Ordinal);
        foreach (var group in agents.GroupBy(a => a.Spec.GroupName, StringComparer.OrdinalIgnoreCase))
        {
            var requests = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var agent in group)
            {
                agent.AddRequestsTo(requests);
            }

            RequestCounts.AddTo(all, requests);
            groups[group.Key] = TrafficReport.From(groupCounters[group.Key], requests, group.Sum(a => a.RunningTime(now).TotalHours));
        }

        return TrafficReport.From(topology.Counters, all, agents.Sum(a => a.RunningTime(now).TotalHours)) with { Groups = groups };
    }

    private static void PublishProgress(RunOptions options, Timeline timeline, ModeSample sample, ActionTracker actions, ExpectationEvaluator evaluator, TimeSpan elapsed)
    {
        var (held, failed) = evaluator.Decided;
        Publish(options, s => s with
        {
            Phase = timeline.AllDone ? "settling" : "running the timeline",
            Elapsed = elapsed,
            EventsDone = timeline.DoneCount,
            NextEvent = timeline.Next?.ToString(),
            Fleet = sample,
            ExpectationsHeld = held,
            ExpectationsFailed = failed,
            Pushes = actions.All.Select(a => { var r = a.ToReport(); return new PushProgress(a.EventId, a.Kind, r.Targets, r.Delivered, r.Completed, r.Failed + r.TimedOut); }).ToArray(),
        });
    }

    private static void Publish(RunOptions options, Func<RunSnapshot, RunSnapshot> change) => options.Progress.Update(change);
}
