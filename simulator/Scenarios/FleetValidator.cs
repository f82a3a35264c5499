using YamlDotNet.RepresentationModel;

namespace Tcm.Simulator.Scenarios;

/// <summary>Checks <c>fleet:</c> and its groups, builds the <see cref="FleetSpec"/> and declares the group names for later sections.</summary>
internal sealed class FleetValidator(ValidationContext context)
{
    private static readonly IReadOnlyList<string> s_fleetKeys = ScenarioDeserializer.KeysOf<FleetDocument>();
    private static readonly IReadOnlyList<string> s_groupKeys = ScenarioDeserializer.KeysOf<GroupDocument>();

    /// <summary>The fleet, or null when it cannot be built (the errors say why).</summary>
    public FleetSpec? Validate(FleetDocument document)
    {
        if (!context.IsMapping(document, "'fleet' must be a mapping with 'agents' and 'groups'", "'fleet'", s_fleetKeys))
        {
            return null;
        }

        int? agents = null;
        if (document.Agents is { } agentsNode)
        {
            agents = context.Int(agentsNode, "agents", 1, 1_000_000);
        }
        else
        {
            context.Error(document.Start, "'fleet' needs 'agents' (how many virtual agents, like 'agents: 1000')");
        }

        var legacy = document.Legacy is { } legacyNode ? Legacy(legacyNode) : LegacyMode.Off;
        context.Legacy = legacy == LegacyMode.Compare;

        var groups = new List<GroupSpec>();
        if (document.Groups is { } list)
        {
            if (list.Single is { } single)
            {
                context.Error(list.Start, $"'groups' must be a list of groups, each starting with '- name: ...' (got {single.Shape})");
            }
            else
            {
                foreach (var item in list.Items)
                {
                    if (Group(item) is not { } group)
                    {
                        continue;
                    }

                    if (groups.Any(g => g.Name.Equals(group.Name, StringComparison.OrdinalIgnoreCase)))
                    {
                        context.Error(item.Start, $"there is already a group named '{group.Name}'");
                    }
                    else
                    {
                        groups.Add(group);
                    }
                }

                if (list.Items.Count == 0)
                {
                    context.Error(list.Start, "'groups' is empty; leave it out for one office group, or list at least one group");
                }

                CheckShares(document.KeyOf("groups").Start, groups, agents);
            }
        }
        else
        {
            groups.Add(new GroupSpec { Name = "all", Share = 1.0, Position = ValidationContext.Position(document.Start) });
        }

        context.GroupList.AddRange(groups.Select(g => g.Name));
        context.VpnAdapterList.AddRange(groups.SelectMany(g => g.VpnAdapters));
        return agents is null ? null : new FleetSpec { Agents = agents.Value, Groups = groups, Legacy = legacy };
    }

    private LegacyMode Legacy(YamlNode node)
    {
        var word = context.Scalar(node, "legacy")?.Trim().ToLowerInvariant();
        switch (word)
        {
            case null or "false" or "no" or "off": return LegacyMode.Off;
            case "true" or "yes" or "on": return LegacyMode.On;
            case "compare": return LegacyMode.Compare;
            default:
                context.Error(node.Start, $"'legacy' must be true, false or compare (got '{word}')");
                return LegacyMode.Off;
        }
    }

    private void CheckShares(YamlDotNet.Core.Mark groupsKey, List<GroupSpec> groups, int? agents)
    {
        var shareGroups = groups.Where(g => g.Share is not null).ToList();
        var counted = groups.Where(g => g.Count is not null).Sum(g => g.Count!.Value);
        if (shareGroups.Count > 0)
        {
            var total = shareGroups.Sum(g => g.Share!.Value);
            if (Math.Abs(total - 1.0) > 0.0001)
            {
                var detail = string.Join(" + ", shareGroups.Select(g => $"{g.Name} {g.Share!.Value * 100:0.##}%"));
                context.Error(groupsKey, $"group shares add up to {total * 100:0.##}%, not 100% ({detail})"
                    + (counted > 0 ? "; shares split the agents left after the groups with 'count'" : ""));
            }

            if (agents is { } a && counted >= a)
            {
                context.Error(groupsKey, $"groups with 'count' take {counted} agents, leaving none of the {a} for the groups with 'share'");
            }
        }
        else if (agents is { } a && counted != a && groups.Count > 0)
        {
            context.Error(groupsKey, $"group counts add up to {counted}, not {a} ('fleet.agents'); make them match or give a group a 'share'");
        }
    }

    private GroupSpec? Group(GroupDocument document)
    {
        if (!context.IsMapping(document, "a group must be a mapping like '- name: office' with 'share: 40%'", "a fleet group", s_groupKeys))
        {
            return null;
        }

        string? name = null;
        if (document.Name is { } nameNode && context.Text(nameNode, "name") is { } n)
        {
            if (!ValidationContext.IdentifierPattern().IsMatch(n))
            {
                context.Error(nameNode.Start, $"a group name may use letters, digits, '-', '_' and '.' only, so conditions can name it (got '{n}')");
            }

            if (n.Equals("all", StringComparison.OrdinalIgnoreCase) || n.Equals("group", StringComparison.OrdinalIgnoreCase))
            {
                context.Error(nameNode.Start, $"'{n}' is a reserved word in conditions; name the group something else");
            }

            name = n;
        }
        else if (document.Name is null)
        {
            context.Error(document.Start, "a fleet group needs 'name'");
        }

        var label = name is null ? "a group" : $"group '{name}'";
        double? share = null;
        if (document.Share is { } shareNode)
        {
            share = context.Percent(shareNode, "share");
            if (share is <= 0)
            {
                context.Error(shareNode.Start, "'share' must be more than 0%");
            }
        }

        var count = document.Count is { } countNode ? context.Int(countNode, "count", 0, 1_000_000) : null;
        if (document.Share is not null && document.Count is not null)
        {
            context.Error(document.Start, $"{label} has both 'share' and 'count'; give one");
        }
        else if (document.Share is null && document.Count is null)
        {
            context.Error(document.Start, $"{label} needs 'share' (like 25%) or 'count' (like 50)");
        }

        var group = new GroupSpec { Name = name ?? "?", Share = share, Count = count, Position = ValidationContext.Position(document.Start) };
        if (document.Location is { } loc && context.Word(loc, "location", ValidationContext.Locations) is { } location)
        {
            group = group with { Location = location };
        }

        if (document.Vpn is { } vpnNode && context.Word(vpnNode, "vpn", ValidationContext.VpnStates) is { } vpn)
        {
            group = group with { Vpn = vpn, VpnAdapters = vpn == VpnState.None ? [] : [VpnAdapterPresets.Default] };
        }

        if (document.VpnAdapter is { } adapterDocument)
        {
            if (document.VpnAdapters is not null)
            {
                context.Error(adapterDocument.Start, $"{label} has both 'vpnAdapter' and 'vpnAdapters'; list every adapter under 'vpnAdapters'");
            }
            else if (group.Vpn == VpnState.None)
            {
                context.Error(adapterDocument.Start, $"'vpnAdapter' needs a VPN client: add 'vpn: down' or 'vpn: up' to {label}");
            }
            else if (VpnAdapter(adapterDocument, "vpnAdapter") is { } adapter)
            {
                group = group with { VpnAdapters = [adapter] };
            }
        }

        if (document.VpnAdapters is { } adaptersDocument && VpnAdapters(adaptersDocument, group, label) is { } adapters)
        {
            group = group with { VpnAdapters = adapters };
        }

        if (document.Cem is { } cemNode && context.Word(cemNode, "cem", ValidationContext.CemStates) is { } cem)
        {
            group = group with { Cem = cem };
        }

        if (document.Persistent is { } persistentNode && context.Bool(persistentNode, "persistent") is { } persistent)
        {
            group = group with { Persistent = persistent };
        }

        if (document.Proxy is { } proxyNode && context.Word(proxyNode, "proxy", ValidationContext.GroupProxies) is { } proxy)
        {
            if (proxy != GroupProxy.None && context.Lab?.Proxy is null)
            {
                context.Error(proxyNode.Start, $"{label} goes through the proxy, but the lab has none: add 'proxy:' under 'system.lab'");
            }

            group = group with { Proxy = proxy };
        }

        group = group with
        {
            Os = document.Os is { } os ? context.Text(os, "os") : null,
            Site = document.Site is { } site ? context.Text(site, "site") : null,
        };
        if (document.Task is { } task)
        {
            group = group with { Task = TaskBehaviour(task) };
        }

        return name is null ? null : group;
    }

    /// <summary><c>vpnAdapters:</c> two or more VPN clients on each machine of the group, each a preset or <c>{ name, description }</c>.</summary>
    private List<VpnAdapterSpec>? VpnAdapters(SectionList<VpnAdapterDocument> list, GroupSpec group, string label)
    {
        if (group.Vpn == VpnState.None)
        {
            context.Error(list.Start, $"'vpnAdapters' needs VPN clients: add 'vpn: down' or 'vpn: up' to {label}");
            return null;
        }

        if (list.Single is not null)
        {
            context.Error(list.Start, $"'vpnAdapters' must be a list like [checkpoint, cisco-anyconnect] (got {list.Single.Shape}); one adapter is 'vpnAdapter'");
            return null;
        }

        var errors = context.Errors.Count;
        var adapters = list.Items.Select(item => VpnAdapter(item, "vpnAdapters")).OfType<VpnAdapterSpec>().ToList();
        if (context.Errors.Count > errors)
        {
            return null;
        }

        if (adapters.Count < 2 || adapters.Count > 8)
        {
            context.Error(list.Start, $"'vpnAdapters' lists 2 to 8 adapters (got {adapters.Count}); one adapter is 'vpnAdapter'");
            return null;
        }

        for (var i = 0; i < adapters.Count; i++)
        {
            if (adapters.Take(i).Any(a => a.Name.Equals(adapters[i].Name, StringComparison.OrdinalIgnoreCase)))
            {
                context.Error(list.Items[i].Start, $"'vpnAdapters' lists the adapter '{adapters[i].Name}' twice; each VPN client adds its own");
                return null;
            }
        }

        return adapters;
    }

    private VpnAdapterSpec? VpnAdapter(VpnAdapterDocument document, string key)
    {
        switch (document.Other)
        {
            case YamlScalarNode scalar:
            {
                var preset = VpnAdapterPresets.Find(scalar.Value ?? "");
                if (preset is null)
                {
                    context.Error(scalar.Start, $"unknown VPN adapter preset '{scalar.Value}'{Suggestions.Hint(scalar.Value ?? "", VpnAdapterPresets.Names)}; or give '{{ name: ..., description: ... }}'");
                }

                return preset;
            }

            case { } other:
                context.Error(other.Start, $"'{key}' must be a preset ({string.Join(", ", VpnAdapterPresets.Names)}) or {{ name, description }} (got {ValidationContext.Describe(other)})");
                return null;
        }

        context.CheckKeys(document, $"'{key}'", ScenarioDeserializer.KeysOf<VpnAdapterDocument>());
        var name = document.Name is { } n ? context.Text(n, "name") : null;
        var description = document.Description is { } d ? context.Text(d, "description") : null;
        if (document.Name is null || document.Description is null)
        {
            context.Error(document.Start, $"a custom {(key == "vpnAdapter" ? "'vpnAdapter'" : "adapter in 'vpnAdapters'")} needs 'name' and 'description' (as Windows shows the adapter)");
            return null;
        }

        return name is null || description is null ? null : new VpnAdapterSpec(name, description);
    }

    private TaskBehaviour TaskBehaviour(TaskDocument document)
    {
        var behaviour = new TaskBehaviour();
        if (!context.IsMapping(document, "'task' must be a mapping with 'duration' and 'failureRate'", "'task'", ScenarioDeserializer.KeysOf<TaskDocument>()))
        {
            return behaviour;
        }

        if (document.FailureRate is { } rateNode && context.Percent(rateNode, "failureRate") is { } rate)
        {
            if (rate > 1)
            {
                context.Error(rateNode.Start, "'failureRate' must be between 0% and 100%");
            }

            behaviour = behaviour with { FailureRate = rate };
        }

        if (document.Duration is { } durationNode && context.Scalar(durationNode, "duration") is { } text)
        {
            var parts = text.Split("..", StringSplitOptions.TrimEntries);
            if (parts.Length is 1 or 2 && DurationText.TryParse(parts[0], out var min) && DurationText.TryParse(parts[^1], out var max) && min <= max)
            {
                behaviour = behaviour with { Duration = new DurationRange(min, max) };
            }
            else
            {
                context.Error(durationNode.Start, $"'duration' must be a duration like 2s or a range like 200ms..2s (got '{text}')");
            }
        }

        return behaviour;
    }
}
