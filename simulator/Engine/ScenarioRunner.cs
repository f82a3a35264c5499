using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tcm.Lab.Admin;
using Tcm.Agent;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
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
internal sealed partial class ScenarioRunner : IScenarioRunner
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    /// <summary>Open-socket ceiling for the simulated network: under the process's 20,000 open files, with room for the lab's own.</summary>
    private const int MaxOpenSockets = 19_000;

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
                new LabOptions { Tcm = lab.Tcm && scenario.Fleet.Legacy != LegacyMode.On, TaskServers = lab.TaskServers, Gateway = lab.Gateway },
                topology, dataDirectory, options.KeepRunning, loggerFactory, cancellationToken),
            Scenarios.ExternalSystem external => await ExternalSystem.ConnectAsync(external, topology, cancellationToken),
            _ => throw new NotSupportedException(scenario.System.GetType().Name),
        };
        notes.Add(system.Description);
        // :: Step 3: the administrator's set-up the scenario asks for
        await ConfigureAsync(system.Admin, system.Cem, scenario, fleet, notes, cancellationToken);

        // :: Step 4: virtual agents (created now, started by the timeline)
        var (managedBefore, workingSetBefore) = MeasureProcess();
        var agents = CreateAgents(fleet, topology, system.Package, options, loggerFactory);
        var actions = new ActionTracker(system.Admin);
        var evaluator = new ExpectationEvaluator(scenario.Expectations);
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
                    background.Add(FireAsync(due, agents, system, actions, scenario, seed, now, log, cancellationToken));
                }

                evaluator.Observe(snapshot, timeline.FiredAt, timeline.HappenedAt);
                foreach (var id in windowEvents)
                {
                    if (!trafficAt.ContainsKey(id) && timeline.HappenedAt(id) is not null)
                    {
                        trafficAt[id] = BuildTraffic(agents, topology);
                    }
                }

                if (now >= nextSample)
                {
                    var current = snapshot.ToSample(topology.OpenSockets);
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

                if (timeline.AllDone && actions.AllSettled && evaluator.WindowsDecided && !options.KeepRunning)
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
        samples.Add(snapshot.ToSample(topology.OpenSockets));
        var (managedWithFleet, workingSetWithFleet) = MeasureProcess();
        var sample = snapshot.ToSample(topology.OpenSockets);
        var process = new ProcessFigures
        {
            AgentsRunning = sample.Running,
            AgentsPersistent = sample.Persistent,
            ServersInProcess = scenario.System is LabSystem,
            ManagedBytesBefore = managedBefore,
            ManagedBytesWithFleet = managedWithFleet,
            WorkingSetBefore = workingSetBefore,
            WorkingSetWithFleet = workingSetWithFleet,
            PeakOpenSockets = topology.PeakOpenSockets,
            CpuSeconds = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
        };
        var pendingResults = agents.Sum(a => a.Agent?.PendingResults ?? 0);
        var duplicateExecutions = agents.Sum(a => a.Executions.Count(e => e.Value > 1));
        var traffic = BuildTraffic(agents, topology);
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
            Traffic = traffic,
            TrafficAfter = trafficAfter,
            Expectations = results,
            Notes = notes,
            Process = process,
        };
    }

    /// <summary>Managed heap after a full, compacting collection, and the working set: the figures per agent are differences of these.</summary>
    private static (long Managed, long WorkingSet) MeasureProcess()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var self = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: false), self.WorkingSet64);
    }

    private static List<VirtualAgent> CreateAgents(FleetModel fleet, NetworkTopology topology, InstallPackage package, RunOptions options, ILoggerFactory loggers)
    {
        var agents = new List<VirtualAgent>(fleet.Agents.Count);
        foreach (var spec in fleet.Agents)
        {
            var network = new SimulatedNetwork(topology, spec.Location, spec.VpnAdapter, spec.Vpn == VpnState.Up, spec.Index);
            var agentOptions = new AgentOptions
            {
                Package = package,
                ComputerName = spec.ComputerName,
                Domain = spec.Domain,
                OsName = spec.OsName,
                Attributes = spec.Attributes(),
                // A simulated fleet reconnects within the scenario's minutes, not the product's five-minute cap.
                Backoff = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(500), Max = TimeSpan.FromSeconds(10) },
            };
            agents.Add(new VirtualAgent(spec, network, agentOptions, new SimulatedTaskExecutor(spec, options.TimeProvider, network), options.TimeProvider, loggers));
        }

        return agents;
    }

    private static async Task ConfigureAsync(AdminClient admin, CemSettings? cem, Scenario scenario, FleetModel fleet, List<string> notes, CancellationToken ct)
    {
        if (scenario.System is LabSystem lab)
        {
            await admin.SetTcmAsync(lab.Tcm && scenario.Fleet.Legacy != LegacyMode.On, ct);
            if (!lab.Persistent)
            {
                var current = (await admin.GetProfilesAsync(ct)).First(p => p.Name == "Default");
                await admin.SaveProfileAsync(current with { PersistentConnection = false }, ct);
            }
        }

        if (scenario.Fleet.Legacy == LegacyMode.On)
        {
            notes.Add("legacy mode: TCM communication is off, every agent polls over HTTP as before TCM");
        }

        if (!scenario.Settings.IsEmpty)
        {
            await admin.SaveAgentSettingsAsync(new TargetedAgentSettings
            {
                Name = $"scenario {scenario.Name}",
                Priority = 50,
                Settings = scenario.Settings.ApplyTo(new AgentSettings()),
                Targets = Targets.Everyone,
            }, ct);
        }

        // Groups that differ from the Default profile (no persistent connection, CEM settings missing or invalid) get a
        // profile of their own that targets them by group, as an administrator would set it up.
        var defaultProfile = (await admin.GetProfilesAsync(ct)).First(p => p.Name == "Default");
        var priority = 10;
        foreach (var group in scenario.Fleet.Groups.Where(g => (g.Persistent is not null || g.Cem != CemValidity.Valid) && fleet.GroupCounts.GetValueOrDefault(g.Name) > 0))
        {
            await admin.SaveProfileAsync(defaultProfile with
            {
                Id = "",
                Name = $"group {group.Name}",
                Priority = priority++,
                PersistentConnection = group.Persistent ?? defaultProfile.PersistentConnection,
                Cem = group.Cem switch
                {
                    CemValidity.Missing => null,
                    // An address without a port: the agent finds the settings invalid and says why.
                    CemValidity.Invalid => new CemSettings { GatewayAddress = cem?.GatewayAddress.Split(':')[0] ?? "gateway-without-port" },
                    _ => cem,
                },
                Targets = new Targets { Rules = [new TargetRule("group", group.Name)] },
            }, ct);
        }

        if (cem is null && scenario.Fleet.Groups.Any(g => g.Location == AgentLocation.Internet && g.Vpn != VpnState.Up))
        {
            notes.Add("the system has no CEM gateway: agents on the internet without VPN have no route to it");
        }
    }

    private static async Task FireAsync(Timeline.DueEvent due, IReadOnlyList<VirtualAgent> fleet, ISystemUnderTest system, ActionTracker actions, Scenario scenario, int seed, double now, ILogger log, CancellationToken ct)
    {
        var e = due.Event;
        var selected = Selector.Select(fleet, e.Select, seed, e.Id);
        due.Started(now, selected.Count);
        try
        {
            var detail = await PerformAsync(e, selected, fleet, system, actions, scenario, now, ct);
            due.Done(detail);
        }
        catch (Exception ex) when (ex is AdminApiException or HttpRequestException or NotSupportedException or InvalidOperationException)
        {
            Log.EventFailed(log, e.Id, ex.Message);
            due.Failed(ex.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            due.Failed("cancelled");
        }
    }

    private static async Task<string?> PerformAsync(TimelineEvent e, IReadOnlyList<VirtualAgent> selected, IReadOnlyList<VirtualAgent> fleet, ISystemUnderTest system, ActionTracker actions, Scenario scenario, double now, CancellationToken ct)
    {
        switch (e.Action)
        {
            case StartAgentsAction start:
                await StartAgentsAsync(selected, start.Ramp, ct);
                return $"{selected.Count} agents started over {DurationText.Format(start.Ramp)}";
            case StopAgentsAction:
                await Parallel.ForEachAsync(selected, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = ct }, async (a, c) => await a.StopAsync(c));
                return null;
            case VpnUpAction:
                return $"{selected.Count(a => a.Network.SetVpn(true))} VPN adapters came up";
            case VpnDownAction:
                return $"{selected.Count(a => a.Network.SetVpn(false))} VPN adapters went down";
            case MoveAction move:
                return $"{selected.Count(a => a.Network.MoveTo(move.To))} agents moved to {move.To.ToString().ToLowerInvariant()}";
            case SetTcmAction tcm:
                await system.Admin.SetTcmAsync(tcm.Enabled, ct);
                return null;
            case SetSettingsAction settings:
                await SaveSettingsAsync(system.Admin, scenario, settings.Settings, ct);
                return null;
            case PushTaskAction task:
                var request = new PushTaskRequest
                {
                    Command = task.Command,
                    Name = e.Id,
                    Parameters = task.Parameters,
                    TimeoutSeconds = Math.Max(1, (int)Math.Ceiling(task.Timeout.TotalSeconds)),
                    Targets = TargetsOf(e.Select, selected),
                };
                // As in the product: where there are Task Servers, tasks go through them (the Client Task Agent's connection).
                var created = system.HasTaskServers
                    ? await system.Admin.PushTaskThroughTaskServersAsync(request, ct)
                    : await system.Admin.PushTaskAsync(request, ct);
                actions.Add(e.Id, "task", task.Command, created, now);
                return $"{created.TargetCount} targets, {created.SentOverChannel} sent over the channel at once";
            case InventoryNowAction inventory:
                var inv = await system.Admin.InventoryNowAsync(new InventoryNowRequest { Classes = inventory.Classes, Targets = TargetsOf(e.Select, selected) }, ct);
                actions.Add(e.Id, "inventory", null, inv, now);
                return $"{inv.TargetCount} targets, {inv.SentOverChannel} sent over the channel at once";
            case PushPolicyAction:
                var pol = await system.Admin.PushPolicyAsync(new PushPolicyRequest { Targets = TargetsOf(e.Select, selected) }, ct);
                actions.Add(e.Id, "policy", null, pol, now);
                return $"{pol.TargetCount} targets";
            case TerminateConnectionsAction terminate:
                var terminated = 0;
                foreach (var agent in selected.Where(a => a.IsRunning && a.Agent is not null))
                {
                    await agent.Agent!.TerminatePersistentConnectionAsync(terminate.ReconnectAfter, ct);
                    terminated++;
                }

                return $"{terminated} persistent connections terminated";
            case DropConnectionsAction:
                return $"{selected.Sum(a => a.Network.DropConnections())} connections dropped";
            case ServerAction server:
                await system.ControlAsync(server.Operation, server.Server, ct);
                return null;
            case DownloadPackageAction download:
                return await DownloadAsync(download, selected, system, ct);
            case WaitAction:
                return null;
            default:
                throw new NotSupportedException($"the engine cannot perform '{e.Action.Kind}'");
        }
    }

    /// <summary>
    /// Publishes the package on the system's package server and has each selected running agent download it (as the product does:
    /// <see cref="Tcm.Agent.TcmAgent.DownloadPackageAsync"/> picks the codebase, nearest to its site first unless CEM is preferred).
    /// The detail counts successes and the codebases used (kind, site, directly or through the gateway);
    /// the bytes per adapter are counted by the simulated network (purpose Download).
    /// </summary>
    private static async Task<string> DownloadAsync(DownloadPackageAction download, IReadOnlyList<VirtualAgent> selected, ISystemUnderTest system, CancellationToken ct)
    {
        var package = system.PublishPackage(download.Package, download.SizeBytes, download.Codebases);
        var agents = selected.Where(a => a.IsRunning && a.Agent?.AgentId is not null).ToArray();
        var used = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var succeeded = 0;
        await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (agent, c) =>
        {
            string key;
            try
            {
                var result = await agent.Agent!.DownloadPackageAsync(package, c);
                key = result.Succeeded
                    ? $"{result.Codebase!.Kind}{(result.Codebase.Site is { } site ? $" at {site}" : "")}{(result.ThroughGateway ? " through the gateway" : " directly")}"
                    : "failed";
                if (result.Succeeded)
                {
                    Interlocked.Increment(ref succeeded);
                }
            }
            catch (InvalidOperationException)
            {
                // Stopped or not registered any more since it was selected.
                key = "failed";
            }

            used.AddOrUpdate(key, 1, (_, n) => n + 1);
        });

        var codebases = string.Join(", ", used.OrderByDescending(u => u.Value).ThenBy(u => u.Key, StringComparer.Ordinal).Select(u => $"{u.Key}: {u.Value}"));
        return $"{succeeded} of {agents.Length} downloaded {download.Package} ({download.SizeBytes} bytes); {(codebases.Length == 0 ? "no agent" : codebases)}";
    }

    /// <summary>The selection as admin targets: everyone when the scenario selects all, otherwise the agents' ids.</summary>
    private static Targets TargetsOf(Selection selection, IReadOnlyList<VirtualAgent> selected) =>
        selection.IsAll ? Targets.Everyone : new Targets { Agents = selected.Select(a => a.AgentId).OfType<string>().ToArray() };

    private static async Task SaveSettingsAsync(AdminClient admin, Scenario scenario, SettingsSpec change, CancellationToken ct)
    {
        var name = $"scenario {scenario.Name}";
        var existing = (await admin.GetAgentSettingsAsync(ct)).FirstOrDefault(s => s.Name == name);
        var baseline = existing?.Settings ?? scenario.Settings.ApplyTo(new AgentSettings());
        await admin.SaveAgentSettingsAsync(new TargetedAgentSettings
        {
            Id = existing?.Id ?? "",
            Name = name,
            Priority = 50,
            Settings = change.ApplyTo(baseline),
            Targets = Targets.Everyone,
        }, ct);
    }

    /// <summary>Starts agents spread evenly over the ramp; registration and connection go on in the background.</summary>
    private static async Task StartAgentsAsync(IReadOnlyList<VirtualAgent> agents, TimeSpan ramp, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var starts = new List<Task>(agents.Count);
        for (var i = 0; i < agents.Count; i++)
        {
            var due = agents.Count <= 1 ? TimeSpan.Zero : ramp * i / agents.Count;
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, ct);
            }

            starts.Add(agents[i].StartAsync(ct));
        }

        await Task.WhenAll(starts);
    }

    private static async Task StopAgentsAsync(IReadOnlyList<VirtualAgent> agents) =>
        await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = 128 }, async (a, _) => await a.DisposeAsync());

    private static TrafficReport BuildTraffic(IReadOnlyList<VirtualAgent> agents, NetworkTopology topology)
    {
        var now = DateTimeOffset.UtcNow;
        return new TrafficReport
        {
            Rows = TrafficReport.RowsFrom(topology.Counters),
            HttpRequests = agents.Sum(a => a.Agent?.Counters.HttpRequests ?? 0),
            ChannelRequests = agents.Sum(a => a.Agent?.Counters.ChannelRequests ?? 0),
            AgentHours = agents.Sum(a => a.RunningTime(now).TotalHours),
        };
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
            Running = sample.Running,
            Direct = sample.Direct,
            Cem = sample.Cem,
            Offline = sample.Offline,
            Persistent = sample.Persistent,
            Http = sample.Http,
            OpenSockets = sample.OpenSockets,
            ExpectationsHeld = held,
            ExpectationsFailed = failed,
            Pushes = actions.All.Select(a => { var r = a.ToReport(); return new PushProgress(a.EventId, a.Kind, r.Targets, r.Delivered, r.Completed, r.Failed + r.TimedOut); }).ToArray(),
        });
    }

    private static void Publish(RunOptions options, Func<RunSnapshot, RunSnapshot> change) => options.Progress.Update(change);

    private static partial class Log
    {
        [LoggerMessage(EventId = 5000, Level = LogLevel.Warning, Message = "Timeline event '{EventId}' failed: {Reason}")]
        public static partial void EventFailed(ILogger logger, string eventId, string reason);
    }
}
