using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tcm.Lab.Admin;
using Tcm.Protocol.Admin;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Engine;

/// <summary>
/// Carries out the timeline's events on the fleet and the system under test (step 5 of <see cref="ScenarioRunner"/>): selects
/// the agents, performs the action, and records on the event how it went.
/// </summary>
internal static partial class EventActions
{
    /// <summary>Selects the event's agents, performs its action and records the outcome on <paramref name="due"/>; a failed action is logged, never thrown.</summary>
    public static async Task FireAsync(Timeline.DueEvent due, IReadOnlyList<VirtualAgent> fleet, ISystemUnderTest system, ActionTracker actions, Scenario scenario, int seed, double now, ILogger log, CancellationToken ct)
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
            case VpnUpAction { Adapter: { } adapter }:
                return $"{selected.Count(a => a.Network.SetVpn(true, adapter))} {adapter} VPN adapters came up";
            case VpnDownAction { Adapter: { } adapter }:
                return $"{selected.Count(a => a.Network.SetVpn(false, adapter))} {adapter} VPN adapters went down";
            case VpnUpAction:
                return $"{selected.Count(a => a.Network.SetVpn(true))} VPN adapters came up";
            case VpnDownAction:
                return $"{selected.Count(a => a.Network.SetVpn(false))} VPN adapters went down";
            case SetProfileAction profile:
                return await RunSetup.SaveProfileAsync(system.Admin, system.Cem, profile, fleet, ct);
            case MoveAction move:
                return $"{selected.Count(a => a.Network.MoveTo(move.To))} agents moved to {move.To.ToString().ToLowerInvariant()}";
            case SetTcmAction tcm:
                await system.Admin.SetTcmAsync(tcm.Enabled, ct);
                return null;
            case SetSettingsAction settings when e.Select.IsAll:
                await RunSetup.SaveSettingsAsync(system.Admin, scenario, settings.Settings, ct);
                return null;
            case SetSettingsAction settings:
                var targeted = TargetsOf(e.Select, selected);
                await RunSetup.SaveSelectedSettingsAsync(system.Admin, scenario, e.Id, settings.Settings, targeted, ct);
                var unregistered = selected.Count - targeted.Agents.Count;
                return $"settings of {targeted.Agents.Count} selected agents changed"
                    + (unregistered > 0 ? $"; {unregistered} selected agents had not registered yet and keep the fleet's settings" : "");
            case PushTaskAction task:
                var request = new PushTaskRequest
                {
                    Command = task.Command,
                    Name = e.Id,
                    Parameters = task.Parameters,
                    TimeoutSeconds = Math.Max(1, (int)Math.Ceiling(task.Timeout.TotalSeconds)),
                    Targets = TargetsOf(e.Select, selected),
                    Waves = task.Waves,
                };
                // As in the product: where there are Task Servers, tasks go through them (the Client Task Agent's connection);
                // waves are the Notification Server's, so a task in waves goes through it.
                var created = system.HasTaskServers && task.Waves is null
                    ? await system.Admin.PushTaskThroughTaskServersAsync(request, ct)
                    : await system.Admin.PushTaskAsync(request, ct);
                actions.Add(e.Id, "task", task.Command, created, now);
                return task.Waves is null
                    ? $"{created.TargetCount} targets, {created.SentOverChannel} sent over the channel at once"
                    : $"{created.TargetCount} targets in waves, the first one now ({created.SentOverChannel} sent over the channel at once)";
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
            case ServerAction { Operation: ServerOperation.Kill, Server: var node } when scenario.System is LabSystem { NsNodes: > 1 } lab && lab.NodeNames.Contains(node):
                // why: a node's own shutdown closes its channels with a goodbye; a crashed process does not, so its sockets are reset first.
                var reset = fleet.Sum(a => a.Network.DropConnectionsTo(node));
                await system.ControlAsync(ServerOperation.Kill, node, ct);
                return $"{reset} connections to {node} reset";
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 5000, Level = LogLevel.Warning, Message = "Timeline event '{EventId}' failed: {Reason}")]
        public static partial void EventFailed(ILogger logger, string eventId, string reason);
    }
}
