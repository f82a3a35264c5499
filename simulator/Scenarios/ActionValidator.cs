using Tcm.Protocol;
using YamlDotNet.RepresentationModel;

namespace Tcm.Simulator.Scenarios;

/// <summary>Checks the keys of an event that belong to its action (<c>do:</c>) and builds the <see cref="ScenarioAction"/>.</summary>
internal sealed class ActionValidator(ValidationContext context)
{
    /// <summary>
    /// Every action: its <c>do:</c> word, the keys it takes besides the event's own (<c>id</c>, <c>at</c>, <c>after</c>, ...),
    /// and how it is built from the event (null when it cannot be; the errors say why).
    /// </summary>
    private static readonly Dictionary<string, (string[] Keys, Func<ActionValidator, EventDocument, ScenarioAction?> Build)> s_actions = new()
    {
        [StartAgentsAction.Word] = (["ramp"], (v, e) => new StartAgentsAction(v.DurationOr(e.Ramp, "ramp", TimeSpan.Zero))),
        [StopAgentsAction.Word] = ([], (_, _) => new StopAgentsAction()),
        [VpnUpAction.Word] = (["adapter"], (v, e) => new VpnUpAction(v.Adapter(e))),
        [VpnDownAction.Word] = (["adapter"], (v, e) => new VpnDownAction(v.Adapter(e))),
        [SetProfileAction.Word] = (["profile", "targets", "persistent", "cem", "priority"], (v, e) => v.SetProfile(e)),
        [MoveAction.Word] = (["to"], (v, e) => v.Move(e)),
        [SetTcmAction.Word] = (["tcm"], (v, e) => v.SetTcm(e)),
        [SetSettingsAction.Word] = (["settings"], (v, e) => v.SetSettings(e)),
        [PushTaskAction.Word] = (["command", "name", "parameters", "waves"], (v, e) => v.PushTask(e)),
        [PushPolicyAction.Word] = ([], (_, _) => new PushPolicyAction()),
        [InventoryNowAction.Word] = (["classes"], (v, e) => v.InventoryNow(e)),
        [TerminateConnectionsAction.Word] = (["reconnectAfter"], (v, e) => new TerminateConnectionsAction(v.DurationOr(e.ReconnectAfter, "reconnectAfter", TimeSpan.FromSeconds(60)))),
        [DropConnectionsAction.Word] = ([], (_, _) => new DropConnectionsAction()),
        [ServerAction.StopWord] = (["server"], (v, e) => v.Server(ServerAction.StopWord, e)),
        [ServerAction.StartWord] = (["server"], (v, e) => v.Server(ServerAction.StartWord, e)),
        [ServerAction.KillWord] = (["server"], (v, e) => v.Server(ServerAction.KillWord, e)),
        [ServerAction.RefuseCredentialsWord] = (["server"], (v, e) => v.Server(ServerAction.RefuseCredentialsWord, e)),
        [ServerAction.AcceptCredentialsWord] = (["server"], (v, e) => v.Server(ServerAction.AcceptCredentialsWord, e)),
        [DownloadPackageAction.Word] = (["package", "size", "codebases"], (v, e) => v.Download(e)),
        [WaitAction.Word] = ([], (_, _) => new WaitAction()),
    };

    /// <summary>The keys each action takes, besides the event's own, by <c>do:</c> word in the order the words are listed in errors.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> KeysOf = s_actions.ToDictionary(a => a.Key, a => a.Value.Keys);

    /// <summary>The action, or null when it cannot be built (the errors say why); an unknown word is a wait (already reported).</summary>
    public ScenarioAction? Validate(string kind, EventDocument e) =>
        s_actions.TryGetValue(kind, out var action) ? action.Build(this, e) : new WaitAction();

    private TimeSpan DurationOr(YamlNode? node, string key, TimeSpan otherwise) => node is null ? otherwise : context.Duration(node, key) ?? otherwise;

    /// <summary><c>adapter:</c> of <c>vpn-up</c>/<c>vpn-down</c>: a preset, name or description of an adapter some group's machines have.</summary>
    private string? Adapter(EventDocument e)
    {
        if (e.Adapter is not { } node || context.Text(node, "adapter") is not { } adapter)
        {
            return null;
        }

        var known = context.VpnAdapterList;
        if (!known.Any(a => Names(a).Contains(adapter, StringComparer.OrdinalIgnoreCase)))
        {
            var names = known.Select(a => a.Preset ?? a.Name).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            context.Error(node.Start, $"no group's machines have the VPN adapter '{adapter}'"
                + (names.Length == 0 ? " (no group has a VPN client)" : $" (they have {string.Join(", ", names)})"));
            return null;
        }

        return adapter;

        static string[] Names(VpnAdapterSpec a) => a.Preset is { } preset ? [preset, a.Name, a.Description] : [a.Name, a.Description];
    }

    private SetProfileAction? SetProfile(EventDocument e)
    {
        var profile = context.RequiredText(e.Profile, "profile", e.Start, "'set-profile' needs 'profile' (the profile's name: Default, or one to add, like 'home workers')");
        var targets = e.Targets is { } t ? Targets(t) : null;
        var persistent = e.Persistent is { } p ? context.Bool(p, "persistent") : null;
        var cem = e.Cem is { } c ? context.Word(c, "cem", ValidationContext.CemStates) : null;
        var priority = e.Priority is { } pr ? context.Int(pr, "priority", 0, 10_000) : null;
        if (e.Targets is null && e.Persistent is null && e.Cem is null && e.Priority is null)
        {
            context.Error(e.Start, "'set-profile' needs something to set: 'targets', 'persistent', 'cem' or 'priority'");
        }

        return profile is null ? null : new SetProfileAction(profile, targets, persistent, cem, priority);
    }

    /// <summary>The attributes a profile's targets may match: those the agents register with, and the machine's name and domain.</summary>
    private static readonly string[] s_targetAttributes = ["group", "site", "location", "os", "model", "computerName", "domain"];

    /// <summary><c>targets:</c> <c>all</c>, <c>none</c>, a group or a list of groups (their machines), or a mapping of attribute patterns.</summary>
    private ProfileTargets? Targets(YamlNode node)
    {
        switch (node)
        {
            case YamlScalarNode { Value: { } word } when word.Trim().ToLowerInvariant() is "all" or "none":
                return word.Trim().Equals("all", StringComparison.OrdinalIgnoreCase) ? ProfileTargets.Everyone : ProfileTargets.Nobody;
            case YamlScalarNode or YamlSequenceNode:
                var groups = context.StringList(node, "targets");
                return groups is null || !groups.All(g => KnownGroup(node, g)) ? null : new ProfileTargets { Groups = groups };
        }

        var errors = context.Errors.Count;
        var rules = context.StringMap(node, "targets");
        foreach (var keyNode in node is YamlMappingNode mapping ? mapping.Children.Keys : [])
        {
            if (keyNode is YamlScalarNode { Value: { } key } && !s_targetAttributes.Contains(key))
            {
                context.Error(keyNode.Start, $"'targets' matches the attributes {string.Join(", ", s_targetAttributes)} (got '{key}')");
            }
        }

        if (rules.Count == 0 && context.Errors.Count == errors)
        {
            context.Error(node.Start, "'targets' has no rule; give 'group', 'site', 'os'..., or write 'targets: none'");
        }

        return context.Errors.Count > errors ? null : new ProfileTargets { Rules = rules };
    }

    private bool KnownGroup(YamlNode node, string group)
    {
        if (context.GroupList.Contains(group, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        context.Error(node.Start, $"unknown group '{group}' in 'targets'{Suggestions.Hint(group, context.GroupList)}");
        return false;
    }

    private InventoryNowAction InventoryNow(EventDocument e) => new(e.Classes is { } classes ? context.StringList(classes, "classes") ?? [] : []);

    private MoveAction? Move(EventDocument e)
    {
        if (e.To is { } to)
        {
            return context.Word(to, "to", ValidationContext.Locations) is { } location ? new MoveAction(location) : null;
        }

        context.Error(e.Start, "'move' needs 'to: office' or 'to: internet'");
        return null;
    }

    private SetTcmAction? SetTcm(EventDocument e)
    {
        if (e.Tcm is { } tcm)
        {
            return context.Bool(tcm, "tcm") is { } on ? new SetTcmAction(on) : null;
        }

        context.Error(e.Start, "'set-tcm' needs 'tcm: on' or 'tcm: off'");
        return null;
    }

    private SetSettingsAction? SetSettings(EventDocument e)
    {
        if (e.Settings is not { } document)
        {
            context.Error(e.Start, $"'set-settings' needs 'settings:' with any of {string.Join(", ", ScenarioValidator.SettingsKeys)}");
            return null;
        }

        var settings = new ScenarioValidator(context).Settings(document);
        if (settings.IsEmpty && document.Other is null && document.Keys.Count == 0)
        {
            context.Error(document.Start, "'settings' is empty; give at least one setting to change");
        }

        return new SetSettingsAction(settings);
    }

    private PushTaskAction? PushTask(EventDocument e)
    {
        var command = context.RequiredText(e.Command, "command", e.Start, "'push-task' needs 'command' (echo, sleep, inventory, or any name the simulated executor runs)");

        var parameters = e.Parameters is { } p ? context.StringMap(p, "parameters") : new Dictionary<string, string>();
        var timeout = e.Timeout is { } t ? context.PositiveDuration(t, "timeout") ?? TimeSpan.FromMinutes(5) : TimeSpan.FromMinutes(5);
        if (e.Name is { } nameNode && context.Text(nameNode, "name") is { } taskName)
        {
            parameters = new Dictionary<string, string>(parameters) { ["$name"] = taskName };
        }

        var waves = e.Waves is { } w ? Waves(w) : null;
        return command is null ? null : new PushTaskAction(command, parameters, timeout, waves);
    }

    private Tcm.Protocol.Admin.WavePlan? Waves(YamlNode node)
    {
        if (context.Text(node, "waves") is not { } text)
        {
            return null;
        }

        var plan = WavesText.Parse(text, out var error);
        if (error is { } problem)
        {
            context.ErrorInScalar((YamlScalarNode)node, problem);
        }

        return plan;
    }

    private ServerAction? Server(string kind, EventDocument e)
    {
        var operation = kind switch
        {
            ServerAction.StopWord => ServerOperation.Stop,
            ServerAction.StartWord => ServerOperation.Start,
            ServerAction.RefuseCredentialsWord => ServerOperation.RefuseCredentials,
            ServerAction.AcceptCredentialsWord => ServerOperation.AcceptCredentials,
            _ => ServerOperation.Kill,
        };
        if (context.Lab is not { } lab)
        {
            context.Error(e.Start, $"'{kind}' needs 'system: lab': the simulator cannot stop servers of an external system");
            return null;
        }

        var credentials = operation is ServerOperation.RefuseCredentials or ServerOperation.AcceptCredentials;
        var servers = credentials ? [] : new List<string>(lab.NodeNames);
        if (!credentials)
        {
            servers.AddRange(Enumerable.Range(1, lab.TaskServers).Select(i => $"ts{i}"));
        }

        if (lab.Gateway && !credentials)
        {
            servers.Add("gateway");
        }

        if (lab.Proxy is not null)
        {
            servers.Add("proxy");
        }

        if (e.Server is not { } serverNode)
        {
            context.Error(e.Start, $"'{kind}' needs 'server:' ({string.Join(", ", servers)})");
            return null;
        }

        var server = context.Scalar(serverNode, "server")?.Trim().ToLowerInvariant();
        if (server is null)
        {
            return null;
        }

        if (!servers.Contains(server))
        {
            var why = credentials ? " (only the lab's proxy asks for credentials)"
                : server == "proxy" ? " (the lab has no proxy; add 'proxy:' under 'system.lab')"
                : server == "gateway" ? " (the lab has 'gateway: false')"
                : lab.NsNodes > 1 && server.StartsWith("ns", StringComparison.Ordinal) ? $" (the lab's Notification Server nodes are {string.Join(", ", lab.NodeNames)}; set 'nsNodes')"
                : server.StartsWith("ts", StringComparison.Ordinal) ? $" (the lab has {lab.TaskServers} Task Server(s); set 'taskServers')" : "";
            context.Error(serverNode.Start, $"unknown server '{server}'{why}{Suggestions.Hint(server, servers)}");
            return null;
        }

        return new ServerAction(operation, server);
    }

    private DownloadPackageAction? Download(EventDocument e)
    {
        var package = context.RequiredText(e.Package, "package", e.Start, "'download-package' needs 'package' (a name, like office-365-update)");
        var size = e.Size is { } sizeNode ? context.Size(sizeNode, "size") ?? 0 : 10 << 20;

        IReadOnlyList<CodebaseSpec> codebases = [new(CodebaseKind.Unc), new(CodebaseKind.Http), new(CodebaseKind.Https)];
        if (e.Codebases is { } list && Codebases(list) is { } specs)
        {
            codebases = specs;
        }

        return package is null ? null : new DownloadPackageAction(package, size, codebases);
    }

    /// <summary>
    /// <c>codebases:</c> a list whose items are a kind (<c>unc</c>, <c>http</c>, <c>https</c>: a codebase without a site) or a
    /// mapping <c>{ kind: unc, site: London }</c> (a codebase at that site); one item alone stands for a list of one.
    /// </summary>
    private List<CodebaseSpec>? Codebases(SectionList<CodebaseDocument> list)
    {
        var errors = context.Errors.Count;
        var specs = new List<CodebaseSpec>();
        foreach (var item in list.Single is { } single ? [single] : list.Items)
        {
            switch (item.Other)
            {
                case YamlScalarNode scalar:
                    if (CodebaseKindOf(scalar, "codebases") is { } kind)
                    {
                        specs.Add(new CodebaseSpec(kind));
                    }

                    break;
                case { } other:
                    context.Error(other.Start, $"'codebases' items must be unc, http, https or {{ kind: unc, site: London }} (got {ValidationContext.Describe(other)})");
                    break;
                default:
                    context.CheckKeys(item, "a codebase", ScenarioDeserializer.KeysOf<CodebaseDocument>());
                    var site = item.Site is { } siteNode ? context.Text(siteNode, "site") : null;
                    if (item.Kind is null)
                    {
                        context.Error(item.Start, "a codebase needs 'kind' (unc, http or https), like { kind: unc, site: London }");
                    }
                    else if (item.Kind is not YamlScalarNode kindScalar)
                    {
                        context.Error(item.Kind.Start, $"'kind' must be unc, http or https (got {ValidationContext.Describe(item.Kind)})");
                    }
                    else if (CodebaseKindOf(kindScalar, "kind") is { } kindAtSite)
                    {
                        specs.Add(new CodebaseSpec(kindAtSite, site));
                    }

                    break;
            }
        }

        if (specs.Count == 0 && context.Errors.Count == errors)
        {
            context.Error(list.Start, "'codebases' needs at least one of unc, http, https");
        }

        return specs.Count == 0 ? null : specs;
    }

    private CodebaseKind? CodebaseKindOf(YamlScalarNode node, string key)
    {
        switch (node.Value?.Trim().ToLowerInvariant())
        {
            case "unc": return CodebaseKind.Unc;
            case "http": return CodebaseKind.Http;
            case "https": return CodebaseKind.Https;
            default:
                context.Error(node.Start, key == "kind"
                    ? $"'kind' must be unc, http or https (got '{node.Value}')"
                    : $"'codebases' may list unc, http and https, or {{ kind: unc, site: London }} (got '{node.Value}')");
                return null;
        }
    }
}
