using Microsoft.Extensions.Logging;
using Tcm.Lab.Admin;
using Tcm.Agent;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using Tcm.Simulator.Fleet;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Engine;

/// <summary>
/// What a run sets up before its clock starts (steps 3 and 4 of <see cref="ScenarioRunner"/>): the administrator's set-up the
/// scenario asks for, and the virtual agents over their simulated networks.
/// </summary>
internal static class RunSetup
{
    /// <summary>
    /// The administrator's set-up the scenario asks for: TCM on or off and the Default profile's persistent connection (lab
    /// only), the scenario's targeted settings, and a profile for each group that differs from the Default one.
    /// </summary>
    public static async Task ConfigureAsync(AdminClient admin, CemSettings? cem, ProxySettings? proxy, Scenario scenario, FleetModel fleet, List<string> notes, CancellationToken ct)
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
            await SaveSettingsAsync(admin, scenario, scenario.Settings, ct);
        }

        // Groups that differ from the Default profile (no persistent connection, CEM settings missing or invalid, a proxy) get a
        // profile of their own that targets them by group, as an administrator would set it up.
        var defaultProfile = (await admin.GetProfilesAsync(ct)).First(p => p.Name == "Default");
        var priority = 10;
        foreach (var group in scenario.Fleet.Groups.Where(g => (g.Persistent is not null || g.Cem != CemValidity.Valid || g.Proxy != GroupProxy.None) && fleet.GroupCounts.GetValueOrDefault(g.Name) > 0))
        {
            await admin.SaveProfileAsync(defaultProfile with
            {
                Id = "",
                Name = $"group {group.Name}",
                Priority = priority++,
                PersistentConnection = group.Persistent ?? defaultProfile.PersistentConnection,
                Cem = CemFor(group.Cem, cem),
                Proxy = group.Proxy == GroupProxy.None || proxy is null ? null : proxy with { AllowDirect = group.Proxy == GroupProxy.OrDirect },
                Targets = new Targets { Rules = [new TargetRule("group", group.Name)] },
            }, ct);
        }

        if (cem is null && scenario.Fleet.Groups.Any(g => g.Location == AgentLocation.Internet && g.Vpn != VpnState.Up))
        {
            notes.Add("the system has no CEM gateway: agents on the internet without VPN have no route to it");
        }
    }

    /// <summary>A profile's CEM settings as a scenario asks for them (<c>cem: valid|missing|invalid|wrong-port</c>), from the system's own.</summary>
    private static CemSettings? CemFor(CemValidity validity, CemSettings? cem) => validity switch
    {
        CemValidity.Missing => null,
        // An address without a port: the agent finds the settings invalid and says why.
        CemValidity.Invalid => new CemSettings { GatewayAddress = cem?.GatewayAddress.Split(':')[0] ?? "gateway-without-port" },
        CemValidity.WrongPort when cem is not null => cem with { GatewayAddress = WrongPort(cem.GatewayAddress) },
        _ => cem,
    };

    /// <summary>
    /// The <c>set-profile</c> action: changes the profile of that name (case-insensitive) through the admin API, or adds it, starting from
    /// the Default profile's settings and targeting nobody until the event gives targets. Returns the event's detail.
    /// </summary>
    public static async Task<string> SaveProfileAsync(AdminClient admin, CemSettings? cem, SetProfileAction change, IReadOnlyList<VirtualAgent> fleet, CancellationToken ct)
    {
        var profiles = await admin.GetProfilesAsync(ct);
        var existing = profiles.FirstOrDefault(p => string.Equals(p.Name, change.Profile, StringComparison.OrdinalIgnoreCase));
        var profile = existing ?? profiles.First(p => p.Name == "Default") with { Id = "", Name = change.Profile, Priority = 50, Targets = new Targets() };
        profile = profile with
        {
            Priority = change.Priority ?? profile.Priority,
            PersistentConnection = change.Persistent ?? profile.PersistentConnection,
            Cem = change.Cem is { } validity ? CemFor(validity, cem) : profile.Cem,
            Targets = change.Targets is { } targets ? TargetsOf(targets, fleet) : profile.Targets,
        };
        var saved = await admin.SaveProfileAsync(profile, ct);
        return $"profile '{saved.Name}' {(existing is null ? "added" : "changed")}: priority {saved.Priority}, persistent {(saved.PersistentConnection ? "on" : "off")}, "
            + $"CEM {saved.Cem?.GatewayAddress ?? "none"}, targets {change.Targets?.ToString() ?? "unchanged"}";
    }

    /// <summary>A scenario's profile targets as the admin API's: groups become their machines' computer names, rules attribute rules.</summary>
    private static Targets TargetsOf(ProfileTargets targets, IReadOnlyList<VirtualAgent> fleet) => new()
    {
        All = targets.All,
        Agents = fleet.Where(a => targets.Groups.Contains(a.Spec.GroupName, StringComparer.OrdinalIgnoreCase)).Select(a => a.Spec.ComputerName).ToArray(),
        Rules = targets.Rules.Select(r => new TargetRule(r.Key, r.Value)).ToArray(),
    };

    /// <summary>The gateway's host with a port it does not listen on: 4726 (the Task Server's), or 443 if the gateway happens to be on 4726.</summary>
    internal static string WrongPort(string gatewayAddress)
    {
        var colon = gatewayAddress.LastIndexOf(':');
        var port = gatewayAddress[(colon + 1)..];
        return $"{gatewayAddress[..colon]}:{(port == "4726" ? "443" : "4726")}";
    }

    /// <summary>
    /// One virtual agent per spec of the fleet, each on its own simulated network; none is started. <paramref name="groupCounters"/>
    /// holds each group's traffic counters, by group name: its agents' traffic is counted there too.
    /// </summary>
    public static List<VirtualAgent> CreateAgents(FleetModel fleet, NetworkTopology topology, IReadOnlyDictionary<string, TrafficCounters> groupCounters, InstallPackage package, RunOptions options, ILoggerFactory loggers)
    {
        var agents = new List<VirtualAgent>(fleet.Agents.Count);
        foreach (var spec in fleet.Agents)
        {
            var network = new SimulatedNetwork(topology, spec.Location, spec.VpnAdapters, spec.Vpn == VpnState.Up, spec.Index) { GroupCounters = groupCounters.GetValueOrDefault(spec.GroupName) };
            var agentOptions = new AgentOptions
            {
                Package = package,
                ComputerName = spec.ComputerName,
                Domain = spec.Domain,
                OsName = spec.OsName,
                Attributes = spec.Attributes(),
                // A simulated fleet reconnects within the scenario's minutes, not the product's five-minute cap.
                Backoff = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(500), Max = TimeSpan.FromSeconds(10) },
                // A scenario's timeline says when agents start; the product's start jitter would move its timings.
                StartJitter = TimeSpan.Zero,
            };
            agents.Add(new VirtualAgent(spec, network, agentOptions, new SimulatedTaskExecutor(spec, options.TimeProvider, network), options.TimeProvider, loggers));
        }

        return agents;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the scenario's targeted settings (everyone, priority 50), creating them the first
    /// time, and to every selection's settings (<see cref="SaveSelectedSettingsAsync"/>): a change for the whole fleet reaches
    /// the selected agents too.
    /// </summary>
    public static async Task SaveSettingsAsync(AdminClient admin, Scenario scenario, SettingsSpec change, CancellationToken ct)
    {
        var name = FleetSettingsName(scenario);
        var all = await admin.GetAgentSettingsAsync(ct);
        var existing = all.FirstOrDefault(s => s.Name == name);
        var baseline = existing?.Settings ?? scenario.Settings.ApplyTo(new AgentSettings());
        await admin.SaveAgentSettingsAsync(new TargetedAgentSettings
        {
            Id = existing?.Id ?? "",
            Name = name,
            Priority = 50,
            Settings = change.ApplyTo(baseline),
            Targets = Targets.Everyone,
        }, ct);
        foreach (var selection in all.Where(s => s.Name.StartsWith(name + ": ", StringComparison.Ordinal)))
        {
            await admin.SaveAgentSettingsAsync(selection with { Settings = change.ApplyTo(selection.Settings) }, ct);
        }
    }

    /// <summary>
    /// The <c>set-settings</c> of event <paramref name="eventId"/> for some agents: targeted settings of their own (the fleet's
    /// settings with <paramref name="change"/> on top) for <paramref name="targets"/>, matched before the fleet's, a later
    /// event's before an earlier one's.
    /// </summary>
    public static async Task SaveSelectedSettingsAsync(AdminClient admin, Scenario scenario, string eventId, SettingsSpec change, Targets targets, CancellationToken ct)
    {
        var fleetName = FleetSettingsName(scenario);
        var all = await admin.GetAgentSettingsAsync(ct);
        var baseline = all.FirstOrDefault(s => s.Name == fleetName)?.Settings ?? scenario.Settings.ApplyTo(new AgentSettings());
        var earlier = all.Count(s => s.Name.StartsWith(fleetName + ": ", StringComparison.Ordinal));
        await admin.SaveAgentSettingsAsync(new TargetedAgentSettings
        {
            Name = $"{fleetName}: {eventId}",
            Priority = Math.Max(0, 49 - earlier),
            Settings = change.ApplyTo(baseline),
            Targets = targets,
        }, ct);
    }

    private static string FleetSettingsName(Scenario scenario) => $"scenario {scenario.Name}";
}
