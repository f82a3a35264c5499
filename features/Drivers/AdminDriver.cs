using System.Globalization;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using Tcm.Lab.Admin;

namespace Tcm.Features.Drivers;

/// <summary>
/// What the administrator does, through the Notification Server's admin API (the simulator's <see cref="AdminClient"/>):
/// TCM communication on or off, communication profiles and their targets, targeted agent settings, pushing tasks, policies
/// and inventory requests, terminating persistent connections, and reading an action's per-agent status. Actions are named
/// as the scenario names them ("echo hello"), so later steps can refer to them.
/// </summary>
internal sealed class AdminDriver(LabDriver lab, FleetDriver fleet)
{
    /// <summary>The one targeted agent settings policy the scenarios edit (everyone, ahead of any other).</summary>
    public const string ScenarioSettingsName = "features: agent settings";

    private readonly Dictionary<string, (ActionCreated Created, IReadOnlyList<string> Agents)> _actions = new(StringComparer.Ordinal);

    // Reqnroll on xUnit 2 gives bindings no run-wide token; every wait here has its own deadline instead.
    private static CancellationToken Ct => CancellationToken.None;

    public async Task SetTcmAsync(bool on) => await (await lab.AdminAsync()).SetTcmAsync(on, Ct);

    /// <summary>Changes the scenario's targeted agent settings (for every agent); the server pushes the new policy to connected agents.</summary>
    public async Task ChangeAgentSettingsAsync(Func<AgentSettings, AgentSettings> change)
    {
        var admin = await lab.AdminAsync();
        var existing = (await admin.GetAgentSettingsAsync(Ct)).FirstOrDefault(s => s.Name == ScenarioSettingsName);
        // A policy retired by the previous scenario's reset starts again from the product defaults.
        var current = existing is { Targets.All: true } ? existing.Settings : new AgentSettings();
        await admin.SaveAgentSettingsAsync(new TargetedAgentSettings
        {
            Id = existing?.Id ?? "",
            Name = ScenarioSettingsName,
            Priority = 1,
            Settings = change(current),
            Targets = Targets.Everyone,
        }, Ct);
    }

    /// <summary>Changes the built-in Default communication profile.</summary>
    public async Task ChangeDefaultProfileAsync(Func<CommunicationProfile, CommunicationProfile> change)
    {
        var admin = await lab.AdminAsync();
        var profile = (await admin.GetProfilesAsync(Ct)).First(p => p.Name == "Default");
        await admin.SaveProfileAsync(change(profile), Ct);
    }

    /// <summary>Creates or changes a communication profile by name (ahead of the Default profile).</summary>
    public async Task SaveProfileAsync(string name, bool persistent, Targets targets)
    {
        var admin = await lab.AdminAsync();
        var existing = (await admin.GetProfilesAsync(Ct)).FirstOrDefault(p => p.Name == name);
        await admin.SaveProfileAsync(new CommunicationProfile
        {
            Id = existing?.Id ?? "",
            Name = name,
            Priority = 10,
            PersistentConnection = persistent,
            Targets = targets,
        }, Ct);
    }

    /// <summary>Targets of the agents whose <c>group</c> attribute is <paramref name="group"/>.</summary>
    public static Targets Group(string group) => new() { Rules = [new TargetRule("group", group)] };

    /// <summary>
    /// Pushes a task, written as a command line: <c>echo hello</c> (output "hello"), <c>sleep 3s</c>, <c>fail</c>, <c>inventory</c>,
    /// or any other name (runs briefly, succeeds). The scenario refers to the action by <paramref name="task"/>.
    /// </summary>
    public async Task<ActionCreated> PushTaskAsync(string task, IReadOnlyList<string> agents, WavePlan? waves = null)
    {
        var ids = await fleet.AgentIdsAsync(agents);
        var (command, parameters) = ParseCommandLine(task);
        var created = await (await lab.AdminAsync()).PushTaskAsync(new PushTaskRequest
        {
            Command = command,
            Name = task,
            Parameters = parameters,
            TimeoutSeconds = 120,
            Targets = new Targets { Agents = [.. ids] },
            Waves = waves,
        }, Ct);
        _actions[task] = (created, agents);
        return created;
    }

    /// <summary>Pushes the current policy to the agents now.</summary>
    public async Task<ActionCreated> PushPolicyAsync(string label, IReadOnlyList<string> agents)
    {
        var ids = await fleet.AgentIdsAsync(agents);
        var created = await (await lab.AdminAsync()).PushPolicyAsync(new PushPolicyRequest { Targets = new Targets { Agents = [.. ids] } }, Ct);
        _actions[label] = (created, agents);
        return created;
    }

    /// <summary>Asks the agents for their inventory now.</summary>
    public async Task<ActionCreated> InventoryNowAsync(string label, IReadOnlyList<string> agents)
    {
        var ids = await fleet.AgentIdsAsync(agents);
        var created = await (await lab.AdminAsync()).InventoryNowAsync(new InventoryNowRequest { Targets = new Targets { Agents = [.. ids] } }, Ct);
        _actions[label] = (created, agents);
        return created;
    }

    /// <summary>The admin console's "terminate persistent connection" for one agent (it reconnects after the server's default 60 s).</summary>
    public async Task TerminateAsync(string agent)
    {
        var id = await fleet.WaitForAgentIdAsync(agent);
        await (await lab.AdminAsync()).TerminateAsync(id, Ct);
    }

    /// <summary>The action named <paramref name="label"/> by this scenario: its id and the agents it targeted.</summary>
    public (ActionCreated Created, IReadOnlyList<string> Agents) Action(string label) =>
        _actions.TryGetValue(label, out var action)
            ? action
            : throw new InvalidOperationException($"the scenario has pushed no \"{label}\" (it pushed: {string.Join(", ", _actions.Keys.Select(k => $"\"{k}\""))})");

    /// <summary>The action's per-agent status as the server reports it now.</summary>
    public async Task<ActionStatus> StatusAsync(string label) => await (await lab.AdminAsync()).GetActionAsync(Action(label).Created.ActionId, Ct);

    /// <summary>Waits until the action's status satisfies <paramref name="condition"/>.</summary>
    public async Task<ActionStatus> WaitForAsync(string label, Func<ActionStatus, bool> condition, TimeSpan within, string what)
    {
        var admin = await lab.AdminAsync();
        var id = Action(label).Created.ActionId;
        var status = await Eventually.WaitAsync<ActionStatus?>(
            async ct =>
            {
                try
                {
                    return await admin.GetActionAsync(id, ct);
                }
                catch (HttpRequestException)
                {
                    // The server may be restarting; the next probe asks again.
                    return null;
                }
            },
            s => s is not null && condition(s),
            within,
            $"\"{label}\" {what}",
            Ct,
            Describe);
        return status!;
    }

    /// <summary>"state via agent" per target, for messages.</summary>
    public static string Describe(ActionStatus? status) => status is null
        ? "no answer from the Notification Server"
        : string.Join("; ", status.Targets.Select(t => string.Create(CultureInfo.InvariantCulture,
            $"{t.ComputerName}: {t.State} via {t.DeliveredVia ?? "-"}, {t.ResultCount} result(s){(t.Output is { } o ? $", output '{o}'" : "")}")));

    private static (string Command, IReadOnlyDictionary<string, string>? Parameters) ParseCommandLine(string task)
    {
        var parts = task.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var command = parts[0].ToLowerInvariant();
        var argument = parts.Length > 1 ? parts[1] : null;
        return (command, argument) switch
        {
            (_, null) => (command, null),
            ("echo", _) => (command, new Dictionary<string, string> { ["text"] = argument }),
            ("sleep", _) => (command, new Dictionary<string, string> { ["duration"] = argument }),
            _ => (command, new Dictionary<string, string> { ["text"] = argument }),
        };
    }
}
