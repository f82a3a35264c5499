using System.Globalization;
using System.Text.RegularExpressions;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tcm.Simulator.Scenarios;

/// <summary>
/// Reads scenario files (<c>docs/scenarios.md</c>) with YamlDotNet's representation model, so every error names the file, line and
/// column and says what was expected. All errors are collected, not just the first; unknown keys are errors with a did-you-mean.
/// </summary>
internal static partial class ScenarioLoader
{
    /// <summary>Reads and parses <paramref name="path"/>; the file name in errors is <paramref name="path"/> as given.</summary>
    public static ScenarioLoadResult Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new ScenarioLoadResult { Errors = [new ScenarioError(path, 1, 1, $"cannot read the file: {ex.Message}")] };
        }

        return Parse(text, path);
    }

    /// <summary>Like <see cref="Load"/>, but throws <see cref="ScenarioException"/> with every error when the file has any.</summary>
    public static Scenario LoadOrThrow(string path)
    {
        var result = Load(path);
        return result.Succeeded ? result.Scenario! : throw new ScenarioException(result.Errors);
    }

    /// <summary>Parses scenario text; <paramref name="fileName"/> is used in errors and as the default name.</summary>
    public static ScenarioLoadResult Parse(string text, string fileName)
    {
        var reader = new Reader(fileName);
        var scenario = reader.ReadScenario(text);
        return reader.Errors.Count > 0
            ? new ScenarioLoadResult { Errors = reader.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToArray() }
            : new ScenarioLoadResult { Scenario = scenario };
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();

    private static readonly string[] s_rootKeys = ["name", "description", "seed", "duration", "system", "fleet", "settings", "timeline", "expect"];
    private static readonly string[] s_labKeys = ["tcm", "taskServers", "gateway", "persistent"];
    private static readonly string[] s_externalKeys = ["url", "adminKey", "caFile"];
    private static readonly string[] s_fleetKeys = ["agents", "groups", "legacy"];
    private static readonly string[] s_groupKeys = ["name", "share", "count", "location", "vpn", "vpnAdapter", "cem", "persistent", "os", "site", "task"];
    private static readonly string[] s_taskKeys = ["duration", "failureRate"];
    private static readonly string[] s_settingsKeys = ["vpnAdapters", "preferCem", "preferCemIfVpn", "policyRefresh", "taskPoll", "keepAlive"];
    private static readonly string[] s_eventKeys = ["id", "at", "after", "delay", "timeout", "do", "select"];
    private static readonly string[] s_selectKeys = ["group", "share", "count", "where"];
    private static readonly string[] s_codebaseKeys = ["kind", "site"];
    private static readonly string[] s_whereKeys = ["location", "vpn", "cem", "mode", "transport", "os", "site", "computerName", "domain"];

    /// <summary>The extra keys each action takes, besides <see cref="s_eventKeys"/>.</summary>
    private static readonly Dictionary<string, string[]> s_actionKeys = new()
    {
        [ActionKinds.StartAgents] = ["ramp"],
        [ActionKinds.StopAgents] = [],
        [ActionKinds.VpnUp] = [],
        [ActionKinds.VpnDown] = [],
        [ActionKinds.Move] = ["to"],
        [ActionKinds.SetTcm] = ["tcm"],
        [ActionKinds.SetSettings] = ["settings"],
        [ActionKinds.PushTask] = ["command", "name", "parameters"],
        [ActionKinds.PushPolicy] = [],
        [ActionKinds.InventoryNow] = ["classes"],
        [ActionKinds.TerminateConnections] = ["reconnectAfter"],
        [ActionKinds.DropConnections] = [],
        [ActionKinds.StopServer] = ["server"],
        [ActionKinds.StartServer] = ["server"],
        [ActionKinds.KillServer] = ["server"],
        [ActionKinds.DownloadPackage] = ["package", "size", "codebases"],
        [ActionKinds.Wait] = [],
    };

    private sealed class Names : IScenarioNames
    {
        public List<string> GroupList { get; } = [];
        public Dictionary<string, string> EventKinds { get; } = new(StringComparer.Ordinal);
        public bool Legacy { get; set; }
        public IReadOnlyCollection<string> Groups => GroupList;
        public IReadOnlyDictionary<string, string> Events => EventKinds;
        public bool LegacyCompare => Legacy;
    }

    /// <summary>One parse: the file name, the errors so far, and the typed readers that record errors instead of throwing.</summary>
    private sealed class Reader(string file)
    {
        private readonly Names _names = new();
        private LabSystem? _lab;
        private bool _external;

        public List<ScenarioError> Errors { get; } = [];

        public Scenario? ReadScenario(string text)
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(text));
            }
            catch (YamlException ex)
            {
                var message = ex.Message.Contains("Duplicate key", StringComparison.OrdinalIgnoreCase)
                    ? "this key appears twice in the same mapping"
                    : $"not valid YAML: {(ex.InnerException ?? ex).Message}";
                Error(ex.Start, message);
                return null;
            }

            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            {
                Errors.Add(new ScenarioError(file, 1, 1, "the file is empty; a scenario needs at least 'fleet' (see docs/scenarios.md)"));
                return null;
            }

            if (stream.Documents.Count > 1)
            {
                Error(stream.Documents[1].RootNode.Start, "one scenario per file: remove the second YAML document ('---')");
            }

            var rootNode = stream.Documents[0].RootNode;
            if (rootNode is not YamlMappingNode rootMapping)
            {
                Error(rootNode.Start, $"a scenario must be a mapping with keys like 'name', 'fleet', 'timeline' (got {Describe(rootNode)})");
                return null;
            }

            var root = new Map(this, rootMapping, "the scenario", s_rootKeys);
            var name = root.Get("name") is { } nameNode ? Text(nameNode, "name") : null;
            var description = root.Get("description") is { } d ? Text(d, "description") : null;
            var seed = root.Get("seed") is { } s ? Int(s, "seed", int.MinValue, int.MaxValue) : null;
            TimeSpan? duration = root.Get("duration") is { } du ? Duration(du, "duration") : null;
            if (duration is { } dd && dd <= TimeSpan.Zero)
            {
                Error(root.Get("duration")!.Start, "'duration' must be more than 0");
            }

            var system = root.Get("system") is { } sys ? ReadSystem(sys) : new LabSystem();
            _lab = system as LabSystem;
            _external = system is ExternalSystem;

            FleetSpec? fleet = null;
            if (root.Get("fleet") is { } fleetNode)
            {
                fleet = ReadFleet(fleetNode);
            }
            else
            {
                Error(rootMapping.Start, "the scenario needs 'fleet' (with 'agents: N')");
            }

            var settings = root.Get("settings") is { } settingsNode ? ReadSettings(settingsNode, "settings") : new SettingsSpec();

            var timeline = new List<TimelineEvent>();
            if (root.Get("timeline") is { } timelineNode)
            {
                timeline = ReadTimeline(timelineNode, duration ?? Scenario.DefaultDuration);
            }

            var expectations = new List<Expectation>();
            if (root.Get("expect") is { } expectNode)
            {
                expectations = ReadExpectations(expectNode);
            }

            if (fleet is null || Errors.Count > 0)
            {
                return null;
            }

            var scenario = new Scenario
            {
                Name = name ?? Path.GetFileNameWithoutExtension(file),
                Description = description,
                Fleet = fleet,
                System = system,
                Settings = settings,
                Timeline = timeline,
                Expectations = expectations,
                SourceFile = file,
            };
            if (seed is { } seedValue)
            {
                scenario = scenario with { Seed = seedValue };
            }

            if (duration is { } durationValue)
            {
                scenario = scenario with { Duration = durationValue };
            }

            return scenario;
        }

        // ------------------------------------------------------------ system

        private SystemSpec ReadSystem(YamlNode node)
        {
            if (node is YamlScalarNode scalar)
            {
                switch (scalar.Value?.Trim().ToLowerInvariant())
                {
                    case "lab" or "" or null:
                        return new LabSystem();
                    case "external":
                        Error(node.Start, "'system: external' needs 'url' (and usually 'adminKey'): write it as a mapping, 'system: { external: { url: https://ns:4443 } }'");
                        return new LabSystem();
                    default:
                        Error(node.Start, $"'system' must be 'lab' or 'external' (got '{scalar.Value}'){Suggestions.Hint(scalar.Value ?? "", ["lab", "external"])}");
                        return new LabSystem();
                }
            }

            if (node is not YamlMappingNode mapping)
            {
                Error(node.Start, $"'system' must be 'lab', or a mapping with 'lab:' or 'external:' (got {Describe(node)})");
                return new LabSystem();
            }

            var map = new Map(this, mapping, "'system'", ["lab", "external"]);
            var lab = map.Get("lab");
            var external = map.Get("external");
            if (lab is not null && external is not null)
            {
                Error(mapping.Start, "'system' takes 'lab' or 'external', not both");
            }

            if (external is not null)
            {
                return ReadExternal(external);
            }

            if (lab is null)
            {
                if (mapping.Children.Count == 0)
                {
                    return new LabSystem();
                }

                return new LabSystem();
            }

            if (lab is YamlScalarNode { Value: null or "" })
            {
                return new LabSystem();
            }

            if (lab is not YamlMappingNode labMapping)
            {
                Error(lab.Start, $"'lab' must be a mapping with {string.Join(", ", s_labKeys)} (got {Describe(lab)})");
                return new LabSystem();
            }

            var labMap = new Map(this, labMapping, "'system.lab'", s_labKeys);
            var result = new LabSystem();
            if (labMap.Get("tcm") is { } tcm && Bool(tcm, "tcm") is { } tcmValue)
            {
                result = result with { Tcm = tcmValue };
            }

            if (labMap.Get("taskServers") is { } ts && Int(ts, "taskServers", 0, 16) is { } tsValue)
            {
                result = result with { TaskServers = tsValue };
            }

            if (labMap.Get("gateway") is { } gw && Bool(gw, "gateway") is { } gwValue)
            {
                result = result with { Gateway = gwValue };
            }

            if (labMap.Get("persistent") is { } p && Bool(p, "persistent") is { } pValue)
            {
                result = result with { Persistent = pValue };
            }

            return result;
        }

        private SystemSpec ReadExternal(YamlNode node)
        {
            if (node is not YamlMappingNode mapping)
            {
                Error(node.Start, $"'external' must be a mapping with 'url', 'adminKey', 'caFile' (got {Describe(node)})");
                return new LabSystem();
            }

            var map = new Map(this, mapping, "'system.external'", s_externalKeys);
            Uri? url = null;
            if (map.Get("url") is { } urlNode && Text(urlNode, "url") is { } urlText)
            {
                if (!Uri.TryCreate(urlText, UriKind.Absolute, out url) || url.Scheme is not ("https" or "http"))
                {
                    Error(urlNode.Start, $"'url' must be an absolute https:// address like https://ns.example:4443 (got '{urlText}')");
                    url = null;
                }
            }
            else if (map.Get("url") is null)
            {
                Error(mapping.Start, "'system.external' needs 'url' (the Notification Server's address, like https://ns.example:4443)");
            }

            var key = map.Get("adminKey") is { } k ? Text(k, "adminKey") : null;
            var ca = map.Get("caFile") is { } c ? Text(c, "caFile") : null;
            return url is null ? new LabSystem() : new ExternalSystem { Url = url, AdminKey = key, CaFile = ca };
        }

        // ------------------------------------------------------------ fleet

        private FleetSpec? ReadFleet(YamlNode node)
        {
            if (node is not YamlMappingNode mapping)
            {
                Error(node.Start, $"'fleet' must be a mapping with 'agents' and 'groups' (got {Describe(node)})");
                return null;
            }

            var map = new Map(this, mapping, "'fleet'", s_fleetKeys);
            int? agents = null;
            if (map.Get("agents") is { } agentsNode)
            {
                agents = Int(agentsNode, "agents", 1, 1_000_000);
            }
            else
            {
                Error(mapping.Start, "'fleet' needs 'agents' (how many virtual agents, like 'agents: 1000')");
            }

            var legacy = LegacyMode.Off;
            if (map.Get("legacy") is { } legacyNode)
            {
                var word = Scalar(legacyNode, "legacy")?.Trim().ToLowerInvariant();
                switch (word)
                {
                    case null: break;
                    case "true" or "yes" or "on": legacy = LegacyMode.On; break;
                    case "false" or "no" or "off": legacy = LegacyMode.Off; break;
                    case "compare": legacy = LegacyMode.Compare; break;
                    default:
                        Error(legacyNode.Start, $"'legacy' must be true, false or compare (got '{word}')");
                        break;
                }
            }

            _names.Legacy = legacy == LegacyMode.Compare;

            var groups = new List<GroupSpec>();
            if (map.Get("groups") is { } groupsNode)
            {
                if (groupsNode is not YamlSequenceNode sequence)
                {
                    Error(groupsNode.Start, $"'groups' must be a list of groups, each starting with '- name: ...' (got {Describe(groupsNode)})");
                }
                else
                {
                    foreach (var item in sequence.Children)
                    {
                        if (ReadGroup(item) is { } group)
                        {
                            if (groups.Any(g => g.Name.Equals(group.Name, StringComparison.OrdinalIgnoreCase)))
                            {
                                Error(item.Start, $"there is already a group named '{group.Name}'");
                            }
                            else
                            {
                                groups.Add(group);
                            }
                        }
                    }

                    if (sequence.Children.Count == 0)
                    {
                        Error(groupsNode.Start, "'groups' is empty; leave it out for one office group, or list at least one group");
                    }

                    CheckShares(map.KeyNode("groups")!, groups, agents);
                }
            }
            else
            {
                groups.Add(new GroupSpec { Name = "all", Share = 1.0, Position = Position(mapping.Start) });
            }

            _names.GroupList.AddRange(groups.Select(g => g.Name));
            return agents is null ? null : new FleetSpec { Agents = agents.Value, Groups = groups, Legacy = legacy };
        }

        private void CheckShares(YamlNode groupsKey, List<GroupSpec> groups, int? agents)
        {
            var shareGroups = groups.Where(g => g.Share is not null).ToList();
            var counted = groups.Where(g => g.Count is not null).Sum(g => g.Count!.Value);
            if (shareGroups.Count > 0)
            {
                var total = shareGroups.Sum(g => g.Share!.Value);
                if (Math.Abs(total - 1.0) > 0.0001)
                {
                    var detail = string.Join(" + ", shareGroups.Select(g => $"{g.Name} {g.Share!.Value * 100:0.##}%"));
                    Error(groupsKey.Start, $"group shares add up to {total * 100:0.##}%, not 100% ({detail})"
                        + (counted > 0 ? "; shares split the agents left after the groups with 'count'" : ""));
                }

                if (agents is { } a && counted >= a)
                {
                    Error(groupsKey.Start, $"groups with 'count' take {counted} agents, leaving none of the {a} for the groups with 'share'");
                }
            }
            else if (agents is { } a && counted != a && groups.Count > 0)
            {
                Error(groupsKey.Start, $"group counts add up to {counted}, not {a} ('fleet.agents'); make them match or give a group a 'share'");
            }
        }

        private GroupSpec? ReadGroup(YamlNode node)
        {
            if (node is not YamlMappingNode mapping)
            {
                Error(node.Start, $"a group must be a mapping like '- name: office' with 'share: 40%' (got {Describe(node)})");
                return null;
            }

            var map = new Map(this, mapping, "a fleet group", s_groupKeys);
            string? name = null;
            if (map.Get("name") is { } nameNode && Text(nameNode, "name") is { } n)
            {
                if (!IdentifierPattern().IsMatch(n))
                {
                    Error(nameNode.Start, $"a group name may use letters, digits, '-', '_' and '.' only, so conditions can name it (got '{n}')");
                }

                if (n.Equals("all", StringComparison.OrdinalIgnoreCase) || n.Equals("group", StringComparison.OrdinalIgnoreCase))
                {
                    Error(nameNode.Start, $"'{n}' is a reserved word in conditions; name the group something else");
                }

                name = n;
            }
            else if (map.Get("name") is null)
            {
                Error(mapping.Start, "a fleet group needs 'name'");
            }

            var label = name is null ? "a group" : $"group '{name}'";
            double? share = null;
            int? count = null;
            if (map.Get("share") is { } shareNode)
            {
                share = Percent(shareNode, "share");
                if (share is <= 0)
                {
                    Error(shareNode.Start, "'share' must be more than 0%");
                }
            }

            if (map.Get("count") is { } countNode)
            {
                count = Int(countNode, "count", 0, 1_000_000);
            }

            if (map.Get("share") is not null && map.Get("count") is not null)
            {
                Error(mapping.Start, $"{label} has both 'share' and 'count'; give one");
            }
            else if (map.Get("share") is null && map.Get("count") is null)
            {
                Error(mapping.Start, $"{label} needs 'share' (like 25%) or 'count' (like 50)");
            }

            var group = new GroupSpec { Name = name ?? "?", Share = share, Count = count, Position = Position(mapping.Start) };
            if (map.Get("location") is { } loc && Word(loc, "location", s_locations) is { } location)
            {
                group = group with { Location = location };
            }

            if (map.Get("vpn") is { } vpnNode && Word(vpnNode, "vpn", s_vpnStates) is { } vpn)
            {
                group = group with { Vpn = vpn, VpnAdapter = vpn == VpnState.None ? null : VpnAdapterPresets.Default };
            }

            if (map.Get("vpnAdapter") is { } adapterNode)
            {
                if (group.Vpn == VpnState.None)
                {
                    Error(adapterNode.Start, $"'vpnAdapter' needs a VPN client: add 'vpn: down' or 'vpn: up' to {label}");
                }
                else if (ReadVpnAdapter(adapterNode) is { } adapter)
                {
                    group = group with { VpnAdapter = adapter };
                }
            }

            if (map.Get("cem") is { } cemNode && Word(cemNode, "cem", s_cemStates) is { } cem)
            {
                group = group with { Cem = cem };
            }

            if (map.Get("persistent") is { } persistentNode && Bool(persistentNode, "persistent") is { } persistent)
            {
                group = group with { Persistent = persistent };
            }

            if (map.Get("os") is { } osNode)
            {
                group = group with { Os = Text(osNode, "os") };
            }

            if (map.Get("site") is { } siteNode)
            {
                group = group with { Site = Text(siteNode, "site") };
            }

            if (map.Get("task") is { } taskNode)
            {
                group = group with { Task = ReadTaskBehaviour(taskNode) };
            }

            return name is null ? null : group;
        }

        private VpnAdapterSpec? ReadVpnAdapter(YamlNode node)
        {
            if (node is YamlScalarNode scalar)
            {
                var preset = VpnAdapterPresets.Find(scalar.Value ?? "");
                if (preset is null)
                {
                    Error(node.Start, $"unknown VPN adapter preset '{scalar.Value}'{Suggestions.Hint(scalar.Value ?? "", VpnAdapterPresets.Names)}; or give '{{ name: ..., description: ... }}'");
                }

                return preset;
            }

            if (node is YamlMappingNode mapping)
            {
                var map = new Map(this, mapping, "'vpnAdapter'", ["name", "description"]);
                var name = map.Get("name") is { } n ? Text(n, "name") : null;
                var description = map.Get("description") is { } d ? Text(d, "description") : null;
                if (map.Get("name") is null || map.Get("description") is null)
                {
                    Error(mapping.Start, "a custom 'vpnAdapter' needs 'name' and 'description' (as Windows shows the adapter)");
                    return null;
                }

                return name is null || description is null ? null : new VpnAdapterSpec(name, description);
            }

            Error(node.Start, $"'vpnAdapter' must be a preset ({string.Join(", ", VpnAdapterPresets.Names)}) or {{ name, description }} (got {Describe(node)})");
            return null;
        }

        private TaskBehaviour ReadTaskBehaviour(YamlNode node)
        {
            var behaviour = new TaskBehaviour();
            if (node is not YamlMappingNode mapping)
            {
                Error(node.Start, $"'task' must be a mapping with 'duration' and 'failureRate' (got {Describe(node)})");
                return behaviour;
            }

            var map = new Map(this, mapping, "'task'", s_taskKeys);
            if (map.Get("failureRate") is { } rateNode && Percent(rateNode, "failureRate") is { } rate)
            {
                if (rate > 1)
                {
                    Error(rateNode.Start, "'failureRate' must be between 0% and 100%");
                }

                behaviour = behaviour with { FailureRate = rate };
            }

            if (map.Get("duration") is { } durationNode && Scalar(durationNode, "duration") is { } text)
            {
                var parts = text.Split("..", StringSplitOptions.TrimEntries);
                if (parts.Length is 1 or 2 && DurationText.TryParse(parts[0], out var min) && DurationText.TryParse(parts[^1], out var max) && min <= max)
                {
                    behaviour = behaviour with { Duration = new DurationRange(min, max) };
                }
                else
                {
                    Error(durationNode.Start, $"'duration' must be a duration like 2s or a range like 200ms..2s (got '{text}')");
                }
            }

            return behaviour;
        }

        // ------------------------------------------------------------ settings

        private SettingsSpec ReadSettings(YamlNode node, string context)
        {
            var settings = new SettingsSpec();
            if (node is not YamlMappingNode mapping)
            {
                Error(node.Start, $"'{context}' must be a mapping with keys like {string.Join(", ", s_settingsKeys)} (got {Describe(node)})");
                return settings;
            }

            var map = new Map(this, mapping, $"'{context}'", s_settingsKeys);
            if (map.Get("vpnAdapters") is { } adaptersNode)
            {
                settings = settings with { VpnAdapters = StringList(adaptersNode, "vpnAdapters") };
            }

            if (map.Get("preferCem") is { } pc)
            {
                settings = settings with { PreferCem = Bool(pc, "preferCem") };
            }

            if (map.Get("preferCemIfVpn") is { } pv)
            {
                settings = settings with { PreferCemIfVpn = Bool(pv, "preferCemIfVpn") };
            }

            if (map.Get("policyRefresh") is { } pr)
            {
                settings = settings with { PolicyRefresh = PositiveDuration(pr, "policyRefresh") };
            }

            if (map.Get("taskPoll") is { } tp)
            {
                settings = settings with { TaskPoll = PositiveDuration(tp, "taskPoll") };
            }

            if (map.Get("keepAlive") is { } ka)
            {
                settings = settings with { KeepAlive = PositiveDuration(ka, "keepAlive") };
            }

            return settings;
        }

        // ------------------------------------------------------------ timeline

        private List<TimelineEvent> ReadTimeline(YamlNode node, TimeSpan duration)
        {
            var events = new List<TimelineEvent>();
            if (node is not YamlSequenceNode sequence)
            {
                Error(node.Start, $"'timeline' must be a list of events, each starting with '- ' (got {Describe(node)})");
                return events;
            }

            // First pass: explicit ids and their kinds, so events and expectations may refer to any of them, in any order.
            foreach (var item in sequence.Children.OfType<YamlMappingNode>())
            {
                var idNode = Child(item, "id");
                if (idNode is not YamlScalarNode { Value: { Length: > 0 } id })
                {
                    continue;
                }

                var kind = Child(item, "do") is YamlScalarNode { Value: { } k } ? k.Trim().ToLowerInvariant() : ActionKinds.Wait;
                if (!IdentifierPattern().IsMatch(id))
                {
                    Error(idNode.Start, $"an event id may use letters, digits, '-', '_' and '.' only (got '{id}')");
                }
                else if (!_names.EventKinds.TryAdd(id, kind))
                {
                    Error(idNode.Start, $"there is already an event with id '{id}'");
                }
            }

            var index = 0;
            string? previousId = null;
            foreach (var item in sequence.Children)
            {
                index++;
                var e = ReadEvent(item, index, duration, previousId);
                if (e is not null)
                {
                    events.Add(e);
                }

                previousId = e?.Id ?? AutoOrExplicitId(item, index);
            }

            CheckCycles(events);
            return events;
        }

        private static string? AutoOrExplicitId(YamlNode item, int index)
        {
            if (item is not YamlMappingNode mapping)
            {
                return null;
            }

            if (Child(mapping, "id") is YamlScalarNode { Value: { Length: > 0 } id })
            {
                return id;
            }

            var kind = Child(mapping, "do") is YamlScalarNode { Value: { } k } ? k.Trim().ToLowerInvariant() : ActionKinds.Wait;
            return $"{kind}-{index}";
        }

        private TimelineEvent? ReadEvent(YamlNode node, int index, TimeSpan duration, string? previousId)
        {
            if (node is not YamlMappingNode mapping)
            {
                Error(node.Start, $"a timeline event must be a mapping like '- at: 10s' with 'do: ...' (got {Describe(node)})");
                return null;
            }

            // The action decides which keys are allowed, so read 'do' first.
            var doNode = Child(mapping, "do");
            var kind = ActionKinds.Wait;
            var kindOk = true;
            if (doNode is not null)
            {
                var word = Scalar(doNode, "do")?.Trim().ToLowerInvariant();
                if (word is not null && s_actionKeys.ContainsKey(word))
                {
                    kind = word;
                }
                else
                {
                    kindOk = false;
                    if (word is not null)
                    {
                        Error(doNode.Start, $"unknown action '{word}'{Suggestions.Hint(word, ActionKinds.All.ToArray())}");
                    }
                }
            }

            string[] allowed = [.. s_eventKeys, .. s_actionKeys[kind]];
            var map = new Map(this, mapping, kindOk ? $"a {kind} event" : "an event", allowed, key =>
            {
                if (!kindOk)
                {
                    return s_actionKeys.Values.Any(keys => keys.Contains(key)) ? "" : null;
                }

                var owners = s_actionKeys.Where(a => a.Value.Contains(key)).Select(a => a.Key).ToArray();
                return owners.Length == 0 ? null : $"'{key}' does not apply to {kind}; it goes with {string.Join(", ", owners)}";
            });

            var idText = map.Get("id") is YamlScalarNode { Value: { Length: > 0 } id } ? id : null;
            var eventId = idText ?? $"{kind}-{index}";

            // :: trigger
            Trigger? trigger = null;
            var atNode = map.Get("at");
            var afterNode = map.Get("after");
            var delayNode = map.Get("delay");
            var timeoutNode = map.Get("timeout");
            var timeoutIsTaskTimeout = kind == ActionKinds.PushTask;
            if (atNode is not null && afterNode is not null)
            {
                Error(mapping.Start, "an event takes 'at' or 'after', not both");
            }
            else if (atNode is not null)
            {
                if (Duration(atNode, "at") is { } at)
                {
                    if (at >= duration)
                    {
                        Error(atNode.Start, $"'at: {DurationText.Format(at)}' is not before the end of the run ('duration: {DurationText.Format(duration)}')");
                    }

                    trigger = new AtTrigger(at);
                }

                if (delayNode is not null)
                {
                    Error(delayNode.Start, "'delay' goes with 'after'; with 'at', write the time itself");
                }

                if (timeoutNode is not null && !timeoutIsTaskTimeout)
                {
                    Error(timeoutNode.Start, "'timeout' goes with 'after: <condition>' (how long to wait for it)");
                }
            }
            else if (afterNode is not null)
            {
                var delay = delayNode is not null ? Duration(delayNode, "delay") ?? TimeSpan.Zero : TimeSpan.Zero;
                if (Scalar(afterNode, "after") is { } afterText)
                {
                    trigger = ReadAfter((YamlScalarNode)afterNode, afterText, delay, timeoutIsTaskTimeout ? null : timeoutNode, eventId, previousId);
                }
            }
            else
            {
                Error(mapping.Start, "an event needs 'at: <time>' (like 'at: 30s') or 'after: <event-id or condition>'");
            }

            // :: action
            ScenarioAction? action = kindOk ? ReadAction(kind, map, mapping) : null;

            // :: selection
            var select = Selection.All;
            if (map.Get("select") is { } selectNode)
            {
                if (kind is ActionKinds.SetTcm or ActionKinds.StopServer or ActionKinds.StartServer or ActionKinds.KillServer or ActionKinds.Wait)
                {
                    Error(map.KeyNode("select")!.Start, $"'select' does not apply to {kind}: it does not act on agents");
                }
                else
                {
                    select = ReadSelection(selectNode);
                }
            }

            return trigger is null || action is null
                ? null
                : new TimelineEvent { Id = eventId, HasExplicitId = idText is not null, Trigger = trigger, Action = action, Select = select, Position = Position(mapping.Start) };
        }

        private Trigger? ReadAfter(YamlScalarNode node, string text, TimeSpan delay, YamlNode? timeoutNode, string selfId, string? previousId)
        {
            var trimmed = text.Trim();
            if (IdentifierPattern().IsMatch(trimmed) && !IsConditionStart(trimmed))
            {
                if (timeoutNode is not null)
                {
                    Error(timeoutNode.Start, "'timeout' goes with 'after: <condition>'; an event id always happens (or the run ends)");
                }

                if (trimmed == selfId)
                {
                    Error(node.Start, $"event '{selfId}' cannot come after itself");
                    return null;
                }

                if (!_names.EventKinds.ContainsKey(trimmed))
                {
                    Error(node.Start, $"unknown event id '{trimmed}' in 'after'{Suggestions.Hint(trimmed, _names.EventKinds.Keys.ToArray())}");
                    return null;
                }

                return new AfterEventTrigger(trimmed, delay);
            }

            var (condition, errors) = ConditionParser.ParseCondition(text, _names);
            foreach (var e in errors)
            {
                ErrorInScalar(node, e);
            }

            TimeSpan? timeout = timeoutNode is not null ? PositiveDuration(timeoutNode, "timeout") : null;
            return condition is null ? null : new AfterConditionTrigger(condition, delay, timeout) { SinceEventId = previousId };
        }

        private static bool IsConditionStart(string word) =>
            ConditionParser.StartWords.Contains(word, StringComparer.OrdinalIgnoreCase);

        private ScenarioAction? ReadAction(string kind, Map map, YamlMappingNode mapping)
        {
            switch (kind)
            {
                case ActionKinds.StartAgents:
                    return new StartAgentsAction(map.Get("ramp") is { } ramp ? Duration(ramp, "ramp") ?? TimeSpan.Zero : TimeSpan.Zero);
                case ActionKinds.StopAgents:
                    return new StopAgentsAction();
                case ActionKinds.VpnUp:
                    return new VpnUpAction();
                case ActionKinds.VpnDown:
                    return new VpnDownAction();
                case ActionKinds.Move:
                    if (map.Get("to") is { } to)
                    {
                        return Word(to, "to", s_locations) is { } location ? new MoveAction(location) : null;
                    }

                    Error(mapping.Start, "'move' needs 'to: office' or 'to: internet'");
                    return null;
                case ActionKinds.SetTcm:
                    if (map.Get("tcm") is { } tcm)
                    {
                        return Bool(tcm, "tcm") is { } on ? new SetTcmAction(on) : null;
                    }

                    Error(mapping.Start, "'set-tcm' needs 'tcm: on' or 'tcm: off'");
                    return null;
                case ActionKinds.SetSettings:
                    if (map.Get("settings") is { } settingsNode)
                    {
                        var settings = ReadSettings(settingsNode, "settings");
                        if (settings.IsEmpty && settingsNode is YamlMappingNode { Children.Count: 0 })
                        {
                            Error(settingsNode.Start, "'settings' is empty; give at least one setting to change");
                        }

                        return new SetSettingsAction(settings);
                    }

                    Error(mapping.Start, $"'set-settings' needs 'settings:' with any of {string.Join(", ", s_settingsKeys)}");
                    return null;
                case ActionKinds.PushTask:
                {
                    string? command = null;
                    if (map.Get("command") is { } commandNode)
                    {
                        command = Text(commandNode, "command");
                    }
                    else
                    {
                        Error(mapping.Start, "'push-task' needs 'command' (echo, sleep, inventory, or any name the simulated executor runs)");
                    }

                    var parameters = map.Get("parameters") is { } pNode ? StringMap(pNode, "parameters") : new Dictionary<string, string>();
                    var timeout = map.Get("timeout") is { } tNode ? PositiveDuration(tNode, "timeout") ?? TimeSpan.FromMinutes(5) : TimeSpan.FromMinutes(5);
                    if (map.Get("name") is { } nameNode && Text(nameNode, "name") is { } taskName)
                    {
                        parameters = new Dictionary<string, string>(parameters) { ["$name"] = taskName };
                    }

                    return command is null ? null : new PushTaskAction(command, parameters, timeout);
                }

                case ActionKinds.PushPolicy:
                    return new PushPolicyAction();
                case ActionKinds.InventoryNow:
                    return new InventoryNowAction(map.Get("classes") is { } classes ? StringList(classes, "classes") ?? [] : []);
                case ActionKinds.TerminateConnections:
                    return new TerminateConnectionsAction(map.Get("reconnectAfter") is { } ra ? Duration(ra, "reconnectAfter") ?? TimeSpan.FromSeconds(60) : TimeSpan.FromSeconds(60));
                case ActionKinds.DropConnections:
                    return new DropConnectionsAction();
                case ActionKinds.StopServer or ActionKinds.StartServer or ActionKinds.KillServer:
                    return ReadServerAction(kind, map, mapping);
                case ActionKinds.DownloadPackage:
                    return ReadDownload(map, mapping);
                default:
                    return new WaitAction();
            }
        }

        private ServerAction? ReadServerAction(string kind, Map map, YamlMappingNode mapping)
        {
            var operation = kind switch
            {
                ActionKinds.StopServer => ServerOperation.Stop,
                ActionKinds.StartServer => ServerOperation.Start,
                _ => ServerOperation.Kill,
            };
            if (_external)
            {
                Error(mapping.Start, $"'{kind}' needs 'system: lab': the simulator cannot stop servers of an external system");
                return null;
            }

            var servers = new List<string> { "ns" };
            servers.AddRange(Enumerable.Range(1, _lab?.TaskServers ?? 1).Select(i => $"ts{i}"));
            if (_lab?.Gateway ?? true)
            {
                servers.Add("gateway");
            }

            if (map.Get("server") is not { } serverNode)
            {
                Error(mapping.Start, $"'{kind}' needs 'server:' ({string.Join(", ", servers)})");
                return null;
            }

            var server = Scalar(serverNode, "server")?.Trim().ToLowerInvariant();
            if (server is null)
            {
                return null;
            }

            if (!servers.Contains(server))
            {
                var why = server == "gateway" ? " (the lab has 'gateway: false')"
                    : server.StartsWith("ts", StringComparison.Ordinal) ? $" (the lab has {_lab?.TaskServers ?? 1} Task Server(s); set 'taskServers')" : "";
                Error(serverNode.Start, $"unknown server '{server}'{why}{Suggestions.Hint(server, servers)}");
                return null;
            }

            return new ServerAction(operation, server);
        }

        private DownloadPackageAction? ReadDownload(Map map, YamlMappingNode mapping)
        {
            string? package = null;
            if (map.Get("package") is { } packageNode)
            {
                package = Text(packageNode, "package");
            }
            else
            {
                Error(mapping.Start, "'download-package' needs 'package' (a name, like office-365-update)");
            }

            long size = 10 << 20;
            if (map.Get("size") is { } sizeNode && Scalar(sizeNode, "size") is { } sizeText)
            {
                if (!DurationText.TryParseSize(sizeText, out size) || size <= 0)
                {
                    Error(sizeNode.Start, $"'size' must be a size like 512KB or 50MB (got '{sizeText}')");
                }
            }

            IReadOnlyList<CodebaseSpec> codebases = [new(CodebaseKind.Unc), new(CodebaseKind.Http), new(CodebaseKind.Https)];
            if (map.Get("codebases") is { } codebasesNode && Codebases(codebasesNode) is { } list)
            {
                codebases = list;
            }

            return package is null ? null : new DownloadPackageAction(package, size, codebases);
        }

        /// <summary>
        /// <c>codebases:</c> a list whose items are a kind (<c>unc</c>, <c>http</c>, <c>https</c>: a codebase without a site) or a
        /// mapping <c>{ kind: unc, site: London }</c> (a codebase at that site).
        /// </summary>
        private List<CodebaseSpec>? Codebases(YamlNode node)
        {
            var errors = Errors.Count;
            var list = new List<CodebaseSpec>();
            foreach (var item in node is YamlSequenceNode sequence ? sequence.Children : [node])
            {
                if (item is YamlScalarNode scalar)
                {
                    if (CodebaseKindOf(scalar, "codebases") is { } kind)
                    {
                        list.Add(new CodebaseSpec(kind));
                    }
                }
                else if (item is YamlMappingNode mapping)
                {
                    var map = new Map(this, mapping, "a codebase", s_codebaseKeys);
                    var site = map.Get("site") is { } siteNode ? Text(siteNode, "site") : null;
                    var kindNode = map.Get("kind");
                    if (kindNode is null)
                    {
                        Error(mapping.Start, "a codebase needs 'kind' (unc, http or https), like { kind: unc, site: London }");
                    }
                    else if (kindNode is not YamlScalarNode kindScalar)
                    {
                        Error(kindNode.Start, $"'kind' must be unc, http or https (got {Describe(kindNode)})");
                    }
                    else if (CodebaseKindOf(kindScalar, "kind") is { } kind)
                    {
                        list.Add(new CodebaseSpec(kind, site));
                    }
                }
                else
                {
                    Error(item.Start, $"'codebases' items must be unc, http, https or {{ kind: unc, site: London }} (got {Describe(item)})");
                }
            }

            if (list.Count == 0 && Errors.Count == errors)
            {
                Error(node.Start, "'codebases' needs at least one of unc, http, https");
            }

            return list.Count == 0 ? null : list;
        }

        private CodebaseKind? CodebaseKindOf(YamlScalarNode node, string key)
        {
            switch (node.Value?.Trim().ToLowerInvariant())
            {
                case "unc": return CodebaseKind.Unc;
                case "http": return CodebaseKind.Http;
                case "https": return CodebaseKind.Https;
                default:
                    Error(node.Start, key == "kind"
                        ? $"'kind' must be unc, http or https (got '{node.Value}')"
                        : $"'codebases' may list unc, http and https, or {{ kind: unc, site: London }} (got '{node.Value}')");
                    return null;
            }
        }

        private Selection ReadSelection(YamlNode node)
        {
            switch (node)
            {
                case YamlScalarNode scalar:
                {
                    var word = scalar.Value?.Trim() ?? "";
                    return word.Equals("all", StringComparison.OrdinalIgnoreCase) ? Selection.All : new Selection { Groups = [GroupName(scalar)] };
                }

                case YamlSequenceNode sequence:
                    return new Selection { Groups = GroupNames(sequence) };
                case YamlMappingNode mapping:
                {
                    var map = new Map(this, mapping, "'select'", s_selectKeys);
                    var selection = Selection.All;
                    if (map.Get("group") is { } groupNode)
                    {
                        selection = groupNode switch
                        {
                            YamlScalarNode s => selection with { Groups = [GroupName(s)] },
                            YamlSequenceNode seq => selection with { Groups = GroupNames(seq) },
                            _ => Invalid(groupNode, "'group' must be a group name or a list of group names"),
                        };
                    }

                    if (map.Get("share") is { } shareNode && Percent(shareNode, "share") is { } share)
                    {
                        if (share is <= 0 or > 1)
                        {
                            Error(shareNode.Start, "'share' in 'select' must be between 0% (exclusive) and 100%");
                        }

                        selection = selection with { Share = share };
                    }

                    if (map.Get("count") is { } countNode)
                    {
                        selection = selection with { Count = Int(countNode, "count", 1, 1_000_000) };
                    }

                    if (map.Get("share") is not null && map.Get("count") is not null)
                    {
                        Error(mapping.Start, "'select' takes 'share' or 'count', not both");
                    }

                    if (map.Get("where") is { } whereNode)
                    {
                        selection = selection with { Where = ReadWhere(whereNode) };
                    }

                    return selection;
                }

                default:
                    Error(node.Start, "'select' must be 'all', a group name, a list of group names, or a mapping with group/share/count/where");
                    return Selection.All;
            }

            Selection Invalid(YamlNode n, string message)
            {
                Error(n.Start, message);
                return Selection.All;
            }
        }

        private SelectionFilter ReadWhere(YamlNode node)
        {
            if (node is not YamlMappingNode mapping)
            {
                Error(node.Start, $"'where' must be a mapping with any of {string.Join(", ", s_whereKeys)} (got {Describe(node)})");
                return SelectionFilter.None;
            }

            var map = new Map(this, mapping, "'where'", s_whereKeys);
            var filter = SelectionFilter.None;
            if (map.Get("location") is { } l)
            {
                filter = filter with { Location = Word(l, "location", s_locations) };
            }

            if (map.Get("vpn") is { } v)
            {
                filter = filter with { Vpn = Word(v, "vpn", s_vpnStates) };
            }

            if (map.Get("cem") is { } c)
            {
                filter = filter with { Cem = Word(c, "cem", s_cemStates) };
            }

            if (map.Get("mode") is { } m)
            {
                filter = filter with { Mode = Word(m, "mode", s_modes) };
            }

            if (map.Get("transport") is { } t)
            {
                filter = filter with { Transport = Word(t, "transport", s_transports) };
            }

            var attributes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var key in new[] { "os", "site", "computerName", "domain" })
            {
                if (map.Get(key) is { } a && Text(a, key) is { } pattern)
                {
                    attributes[key] = pattern;
                }
            }

            return attributes.Count == 0 ? filter : filter with { Attributes = attributes };
        }

        private string GroupName(YamlScalarNode node)
        {
            var name = node.Value?.Trim() ?? "";
            var match = _names.GroupList.FirstOrDefault(g => g.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                Error(node.Start, $"unknown group '{name}'{Suggestions.Hint(name, _names.GroupList)}");
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
                    Error(item.Start, $"expected a group name (got {Describe(item)})");
                }
            }

            return names;
        }

        private void CheckCycles(List<TimelineEvent> events)
        {
            var byId = events.Where(e => e.HasExplicitId).ToDictionary(e => e.Id, StringComparer.Ordinal);
            foreach (var e in events)
            {
                var seen = new HashSet<string>(StringComparer.Ordinal) { e.Id };
                var current = e;
                while (current.Trigger is AfterEventTrigger after && byId.TryGetValue(after.EventId, out var next))
                {
                    if (!seen.Add(next.Id))
                    {
                        if (next.Id == e.Id)
                        {
                            Errors.Add(new ScenarioError(file, e.Position.Line, e.Position.Column,
                                $"event '{e.Id}' waits for itself through 'after': {string.Join(" -> ", seen)} -> {e.Id}"));
                        }

                        break;
                    }

                    current = next;
                }
            }
        }

        // ------------------------------------------------------------ expectations

        private List<Expectation> ReadExpectations(YamlNode node)
        {
            var result = new List<Expectation>();
            var entries = new List<(string Name, YamlNode NameNode, YamlNode Value)>();
            switch (node)
            {
                case YamlMappingNode mapping:
                    foreach (var (key, value) in mapping.Children)
                    {
                        if (key is YamlScalarNode { Value: { } name })
                        {
                            entries.Add((name, key, value));
                        }
                        else
                        {
                            Error(key.Start, "an expectation's name must be plain text");
                        }
                    }

                    break;
                case YamlSequenceNode sequence:
                    foreach (var item in sequence.Children)
                    {
                        entries.Add((item is YamlScalarNode { Value: { } text } ? text : "?", item, item));
                    }

                    break;
                default:
                    Error(node.Start, $"'expect' must be a mapping of name: expectation (got {Describe(node)})");
                    return result;
            }

            foreach (var (name, nameNode, value) in entries)
            {
                if (value is not YamlScalarNode { Value: { Length: > 0 } text } scalar)
                {
                    Error(value.Start, $"expectation '{name}' must be an expression like 'cem >= 99% of home-vpn within 10s after vpn-flip' (got {Describe(value)})");
                    continue;
                }

                if (result.Any(r => r.Name == name))
                {
                    Error(nameNode.Start, $"there is already an expectation named '{name}'");
                }

                var (expectation, errors) = ConditionParser.ParseExpectation(name, text, _names, Position(scalar.Start));
                foreach (var e in errors)
                {
                    ErrorInScalar(scalar, e);
                }

                if (expectation is not null)
                {
                    result.Add(expectation);
                }
            }

            return result;
        }

        // ------------------------------------------------------------ typed readers

        private static readonly Dictionary<string, AgentLocation> s_locations = new() { ["office"] = AgentLocation.Office, ["internet"] = AgentLocation.Internet };
        private static readonly Dictionary<string, VpnState> s_vpnStates = new() { ["none"] = VpnState.None, ["down"] = VpnState.Down, ["up"] = VpnState.Up };
        private static readonly Dictionary<string, CemValidity> s_cemStates = new() { ["valid"] = CemValidity.Valid, ["missing"] = CemValidity.Missing, ["invalid"] = CemValidity.Invalid };
        private static readonly Dictionary<string, ConnectionMode> s_modes = new() { ["direct"] = ConnectionMode.Direct, ["cem"] = ConnectionMode.Cem, ["offline"] = ConnectionMode.Offline };
        private static readonly Dictionary<string, TransportKind> s_transports = new() { ["persistent"] = TransportKind.Persistent, ["http"] = TransportKind.Http };

        public string? Scalar(YamlNode node, string key)
        {
            if (node is YamlScalarNode { Value: { Length: > 0 } value })
            {
                return value;
            }

            Error(node.Start, node is YamlScalarNode ? $"'{key}' needs a value" : $"'{key}' must be a single value (got {Describe(node)})");
            return null;
        }

        private string? Text(YamlNode node, string key) => Scalar(node, key)?.Trim();

        private int? Int(YamlNode node, string key, int min, int max)
        {
            if (Scalar(node, key) is not { } text)
            {
                return null;
            }

            var cleaned = text.Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);
            if (!int.TryParse(cleaned, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                Error(node.Start, $"'{key}' must be a whole number (got '{text}')");
                return null;
            }

            if (value < min || value > max)
            {
                Error(node.Start, max == int.MaxValue ? $"'{key}' must be at least {min} (got {value})" : $"'{key}' must be between {min} and {max} (got {value})");
                return null;
            }

            return value;
        }

        private bool? Bool(YamlNode node, string key)
        {
            switch (Scalar(node, key)?.Trim().ToLowerInvariant())
            {
                case null: return null;
                case "true" or "yes" or "on": return true;
                case "false" or "no" or "off": return false;
                default:
                    Error(node.Start, $"'{key}' must be true or false (on/off) (got '{((YamlScalarNode)node).Value}')");
                    return null;
            }
        }

        private TimeSpan? Duration(YamlNode node, string key)
        {
            if (Scalar(node, key) is not { } text)
            {
                return null;
            }

            if (DurationText.TryParse(text, out var value))
            {
                return value;
            }

            Error(node.Start, $"'{key}' must be a duration like 500ms, 30s or 2m (got '{text}')");
            return null;
        }

        private TimeSpan? PositiveDuration(YamlNode node, string key)
        {
            var value = Duration(node, key);
            if (value is { } v && v <= TimeSpan.Zero)
            {
                Error(node.Start, $"'{key}' must be more than 0");
                return null;
            }

            return value;
        }

        private double? Percent(YamlNode node, string key)
        {
            if (Scalar(node, key) is not { } text)
            {
                return null;
            }

            if (DurationText.TryParsePercent(text, out var value))
            {
                return value;
            }

            Error(node.Start, $"'{key}' must be a percentage like 25% (got '{text}')");
            return null;
        }

        private T? Word<T>(YamlNode node, string key, Dictionary<string, T> words)
            where T : struct
        {
            if (Scalar(node, key) is not { } text)
            {
                return null;
            }

            if (words.TryGetValue(text.Trim().ToLowerInvariant(), out var value))
            {
                return value;
            }

            var closest = Suggestions.Closest(text, words.Keys);
            Error(node.Start, $"'{key}' must be one of {string.Join(", ", words.Keys)} (got '{text}')" + (closest is null ? "" : $"; did you mean '{closest}'?"));
            return null;
        }

        private List<string>? StringList(YamlNode node, string key)
        {
            switch (node)
            {
                case YamlScalarNode { Value: { Length: > 0 } single }:
                    return [single];
                case YamlSequenceNode sequence:
                {
                    var list = new List<string>();
                    foreach (var item in sequence.Children)
                    {
                        if (item is YamlScalarNode { Value: { Length: > 0 } text })
                        {
                            list.Add(text);
                        }
                        else
                        {
                            Error(item.Start, $"'{key}' items must be single values (got {Describe(item)})");
                        }
                    }

                    return list;
                }

                default:
                    Error(node.Start, $"'{key}' must be a list like [a, b] (got {Describe(node)})");
                    return null;
            }
        }

        private Dictionary<string, string> StringMap(YamlNode node, string key)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (node is not YamlMappingNode mapping)
            {
                Error(node.Start, $"'{key}' must be a mapping like {{ text: hello }} (got {Describe(node)})");
                return result;
            }

            foreach (var (k, v) in mapping.Children)
            {
                if (k is YamlScalarNode { Value: { } name } && v is YamlScalarNode scalar)
                {
                    result[name] = scalar.Value ?? "";
                }
                else
                {
                    Error(v.Start, $"'{key}' values must be single values (got {Describe(v)})");
                }
            }

            return result;
        }

        // ------------------------------------------------------------ errors and positions

        public void Error(Mark mark, string message) => Errors.Add(new ScenarioError(file, (int)mark.Line, (int)mark.Column, message));

        private void ErrorInScalar(YamlScalarNode node, ExpressionError error)
        {
            var quote = node.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted ? 1 : 0;
            var singleLine = node.Start.Line == node.End.Line;
            var column = singleLine ? (int)node.Start.Column + quote + error.Offset : (int)node.Start.Column;
            Errors.Add(new ScenarioError(file, (int)node.Start.Line, column, error.Message));
        }

        private static SourcePosition Position(Mark mark) => new((int)mark.Line, (int)mark.Column);

        private static YamlNode? Child(YamlMappingNode mapping, string key) =>
            mapping.Children.FirstOrDefault(c => c.Key is YamlScalarNode { Value: { } k } && k == key).Value;

        public static string Describe(YamlNode node) => node switch
        {
            YamlMappingNode => "a mapping",
            YamlSequenceNode => "a list",
            YamlScalarNode { Value: null or "" } => "nothing",
            YamlScalarNode s => $"'{s.Value}'",
            _ => "something else",
        };
    }

    /// <summary>A mapping with its allowed keys checked once: unknown keys are reported (with a did-you-mean) on construction.</summary>
    private sealed class Map
    {
        private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);

        /// <param name="reader">Where errors go.</param>
        /// <param name="node">The mapping.</param>
        /// <param name="context">How errors name the mapping, e.g. "a fleet group".</param>
        /// <param name="allowed">Keys allowed here.</param>
        /// <param name="explainUnknown">Optional: a better message for a key that is not allowed here (empty string: report nothing).</param>
        public Map(Reader reader, YamlMappingNode node, string context, IReadOnlyCollection<string> allowed, Func<string, string?>? explainUnknown = null)
        {
            foreach (var (keyNode, value) in node.Children)
            {
                if (keyNode is not YamlScalarNode { Value: { } key } scalarKey)
                {
                    reader.Error(keyNode.Start, $"keys in {context} must be plain words (got {Reader.Describe(keyNode)})");
                    continue;
                }

                if (allowed.Contains(key))
                {
                    _entries[key] = (scalarKey, value);
                    continue;
                }

                var caseMatch = allowed.FirstOrDefault(a => a.Equals(key, StringComparison.OrdinalIgnoreCase));
                if (caseMatch is not null)
                {
                    reader.Error(keyNode.Start, $"unknown key '{key}' in {context}; did you mean '{caseMatch}'? (keys are case-sensitive)");
                    continue;
                }

                if (explainUnknown?.Invoke(key) is { } explanation)
                {
                    if (explanation.Length > 0)
                    {
                        reader.Error(keyNode.Start, explanation);
                    }

                    continue;
                }

                reader.Error(keyNode.Start, $"unknown key '{key}' in {context}{Suggestions.Hint(key, allowed)}");
            }
        }

        /// <summary>The value of <paramref name="key"/>, or null when absent.</summary>
        public YamlNode? Get(string key) => _entries.TryGetValue(key, out var e) ? e.Value : null;

        /// <summary>The key node of <paramref name="key"/> (for errors about the whole entry), or null.</summary>
        public YamlScalarNode? KeyNode(string key) => _entries.TryGetValue(key, out var e) ? e.Key : null;
    }
}
