using YamlDotNet.RepresentationModel;

namespace Tcm.Simulator.Scenarios;

/// <summary>Checks an event's <c>select:</c> (all, a group, a list of groups, or group/share/count/where) against the fleet's groups.</summary>
internal sealed class SelectionValidator(ValidationContext context)
{
    private static readonly IReadOnlyList<string> s_whereKeys = ScenarioDeserializer.KeysOf<WhereDocument>();

    public Selection Validate(SelectDocument document)
    {
        switch (document.Other)
        {
            case YamlScalarNode scalar:
                return (scalar.Value?.Trim() ?? "").Equals("all", StringComparison.OrdinalIgnoreCase) ? Selection.All : new Selection { Groups = [GroupName(scalar)] };
            case YamlSequenceNode sequence:
                return new Selection { Groups = GroupNames(sequence) };
            case { } other:
                context.Error(other.Start, "'select' must be 'all', a group name, a list of group names, or a mapping with group/share/count/where");
                return Selection.All;
        }

        context.CheckKeys(document, "'select'", ScenarioDeserializer.KeysOf<SelectDocument>());
        var selection = Selection.All;
        switch (document.Group)
        {
            case YamlScalarNode s:
                selection = selection with { Groups = [GroupName(s)] };
                break;
            case YamlSequenceNode sequence:
                selection = selection with { Groups = GroupNames(sequence) };
                break;
            case { } other:
                context.Error(other.Start, "'group' must be a group name or a list of group names");
                break;
        }

        if (document.Share is { } shareNode && context.Percent(shareNode, "share") is { } share)
        {
            if (share is <= 0 or > 1)
            {
                context.Error(shareNode.Start, "'share' in 'select' must be between 0% (exclusive) and 100%");
            }

            selection = selection with { Share = share };
        }

        if (document.Count is { } countNode)
        {
            selection = selection with { Count = context.Int(countNode, "count", 1, 1_000_000) };
        }

        if (document.Share is not null && document.Count is not null)
        {
            context.Error(document.Start, "'select' takes 'share' or 'count', not both");
        }

        if (document.Where is { } where)
        {
            selection = selection with { Where = Where(where) };
        }

        return selection;
    }

    private SelectionFilter Where(WhereDocument document)
    {
        if (!context.IsMapping(document, $"'where' must be a mapping with any of {string.Join(", ", s_whereKeys)}", "'where'", s_whereKeys))
        {
            return SelectionFilter.None;
        }

        var filter = SelectionFilter.None with
        {
            Location = document.Location is { } l ? context.Word(l, "location", ValidationContext.Locations) : null,
            Vpn = document.Vpn is { } v ? context.Word(v, "vpn", ValidationContext.VpnStates) : null,
            Cem = document.Cem is { } c ? context.Word(c, "cem", ValidationContext.CemStates) : null,
            Mode = document.Mode is { } m ? context.Word(m, "mode", ValidationContext.Modes) : null,
            Transport = document.Transport is { } t ? context.Word(t, "transport", ValidationContext.Transports) : null,
        };

        var attributes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, node) in new[] { ("os", document.Os), ("site", document.Site), ("computerName", document.ComputerName), ("domain", document.Domain) })
        {
            if (node is not null && context.Text(node, key) is { } pattern)
            {
                attributes[key] = pattern;
            }
        }

        return attributes.Count == 0 ? filter : filter with { Attributes = attributes };
    }

    private string GroupName(YamlScalarNode node)
    {
        var name = node.Value?.Trim() ?? "";
        var match = context.GroupList.FirstOrDefault(g => g.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (match is null)
        {
            context.Error(node.Start, $"unknown group '{name}'{Suggestions.Hint(name, context.GroupList)}");
            return name;
        }

        return match;
    }

    private List<string> GroupNames(YamlSequenceNode sequence)
    {
        var names = new List<string>();
        foreach (var item in sequence.Children)
        {
            if (item is YamlScalarNode s)
            {
                names.Add(GroupName(s));
            }
            else
            {
                context.Error(item.Start, $"expected a group name (got {ValidationContext.Describe(item)})");
            }
        }

        return names;
    }
}
