using Tcm.Lab.Storage;
using YamlDotNet.RepresentationModel;

namespace Tcm.Simulator.Scenarios;

/// <summary>
/// Checks a <see cref="ScenarioDocument"/> and builds the <see cref="Scenario"/>: the top level, <c>system</c> and
/// <c>settings</c> here, the other sections in their own validators, in the order later ones depend on (the system
/// decides the servers, the fleet the group names, the timeline the event ids).
/// </summary>
internal sealed class ScenarioValidator(ValidationContext context)
{
    private static readonly IReadOnlyList<string> s_rootKeys = ScenarioDeserializer.KeysOf<ScenarioDocument>();
    private static readonly IReadOnlyList<string> s_labKeys = ScenarioDeserializer.KeysOf<LabDocument>();

    /// <summary>The settings keys, in the order error messages list them.</summary>
    public static IReadOnlyList<string> SettingsKeys { get; } = ScenarioDeserializer.KeysOf<SettingsDocument>();

    /// <summary>The scenario, or null when anything is wrong (every problem is in the context's errors).</summary>
    public Scenario? Validate(ScenarioDocument document)
    {
        if (!context.IsMapping(document, "a scenario must be a mapping with keys like 'name', 'fleet', 'timeline'", "the scenario", s_rootKeys))
        {
            return null;
        }

        var name = document.Name is { } nameNode ? context.Text(nameNode, "name") : null;
        var description = document.Description is { } d ? context.Text(d, "description") : null;
        var seed = document.Seed is { } s ? context.Int(s, "seed", int.MinValue, int.MaxValue) : null;
        TimeSpan? duration = document.Duration is { } du ? context.Duration(du, "duration") : null;
        if (duration is { } dd && dd <= TimeSpan.Zero)
        {
            context.Error(document.Duration!.Start, "'duration' must be more than 0");
        }

        var system = document.System is { } sys ? System(sys) : new LabSystem();
        context.Lab = system as LabSystem;

        FleetSpec? fleet = null;
        if (document.Fleet is { } fleetDocument)
        {
            fleet = new FleetValidator(context).Validate(fleetDocument);
        }
        else
        {
            context.Error(document.Start, "the scenario needs 'fleet' (with 'agents: N')");
        }

        var settings = document.Settings is { } settingsDocument ? Settings(settingsDocument) : new SettingsSpec();
        var timeline = document.Timeline is { } timelineDocument
            ? new TimelineValidator(context).Validate(timelineDocument, duration ?? Scenario.DefaultDuration)
            : [];
        var expectations = document.Expect is { } expect ? new ExpectationValidator(context).Validate(expect) : [];

        if (fleet is null || context.Errors.Count > 0)
        {
            return null;
        }

        return new Scenario
        {
            Name = name ?? Path.GetFileNameWithoutExtension(context.File),
            Description = description,
            Seed = seed ?? 1,
            Duration = duration ?? Scenario.DefaultDuration,
            Fleet = fleet,
            System = system,
            Settings = settings,
            Timeline = timeline,
            Expectations = expectations,
            SourceFile = context.File,
        };
    }

    // ------------------------------------------------------------ system

    private SystemSpec System(SystemDocument document)
    {
        switch (document.Other)
        {
            case YamlScalarNode scalar:
                switch (scalar.Value?.Trim().ToLowerInvariant())
                {
                    case "lab" or "" or null:
                        return new LabSystem();
                    case "external":
                        context.Error(scalar.Start, "'system: external' needs 'url' (and usually 'adminKey'): write it as a mapping, 'system: { external: { url: https://ns:4443 } }'");
                        return new LabSystem();
                    default:
                        context.Error(scalar.Start, $"'system' must be 'lab' or 'external' (got '{scalar.Value}'){Suggestions.Hint(scalar.Value ?? "", ["lab", "external"])}");
                        return new LabSystem();
                }

            case { } other:
                context.Error(other.Start, $"'system' must be 'lab', or a mapping with 'lab:' or 'external:' (got {ValidationContext.Describe(other)})");
                return new LabSystem();
        }

        context.CheckKeys(document, "'system'", ["lab", "external"]);
        if (document.Lab is not null && document.External is not null)
        {
            context.Error(document.Start, "'system' takes 'lab' or 'external', not both");
        }

        if (document.External is { } external)
        {
            return External(external);
        }

        return document.Lab is { } lab ? Lab(lab) : new LabSystem();
    }

    private LabSystem Lab(LabDocument document)
    {
        switch (document.Other)
        {
            case YamlScalarNode { Value: null or "" }:
                return new LabSystem();
            case { } other:
                context.Error(other.Start, $"'lab' must be a mapping with {string.Join(", ", s_labKeys)} (got {ValidationContext.Describe(other)})");
                return new LabSystem();
        }

        context.CheckKeys(document, "'system.lab'", s_labKeys);
        var result = new LabSystem();
        if (document.Tcm is { } tcm && context.Bool(tcm, "tcm") is { } tcmValue)
        {
            result = result with { Tcm = tcmValue };
        }

        if (document.TaskServers is { } ts && context.Int(ts, "taskServers", 0, 16) is { } tsValue)
        {
            result = result with { TaskServers = tsValue };
        }

        if (document.Gateway is { } gw && context.Bool(gw, "gateway") is { } gwValue)
        {
            result = result with { Gateway = gwValue };
        }

        if (document.Persistent is { } p && context.Bool(p, "persistent") is { } pValue)
        {
            result = result with { Persistent = pValue };
        }

        result = Nodes(document, result);
        return document.Proxy is { } proxy ? result with { Proxy = Proxy(proxy) } : result;
    }

    private static readonly IReadOnlyDictionary<string, StoreKind> s_stores = new Dictionary<string, StoreKind> { ["sqlite"] = StoreKind.Sqlite, ["postgresql"] = StoreKind.PostgreSql };

    /// <summary>
    /// <c>store</c> and <c>nsNodes</c>: several nodes share one database, so they need <c>store: postgresql</c>; the lab's gateway and Task
    /// Servers know one Notification Server address, so several nodes run without them (both said in the file).
    /// </summary>
    private LabSystem Nodes(LabDocument document, LabSystem lab)
    {
        if (document.Store is { } store && context.Word(store, "store", s_stores) is { } kind)
        {
            lab = lab with { Store = kind };
        }

        if (document.NsNodes is not { } nodes || context.Int(nodes, "nsNodes", 1, 8) is not { } count)
        {
            return lab;
        }

        if (count > 1 && lab.Store != StoreKind.PostgreSql)
        {
            context.Error(nodes.Start, $"'nsNodes: {count}' needs 'store: postgresql' under 'system.lab': several Notification Server nodes share one database, and the SQLite file is one node's");
        }

        if (count > 1 && (lab.Gateway || lab.TaskServers > 0))
        {
            context.Error(nodes.Start, $"'nsNodes: {count}' runs without the gateway and Task Servers (they know one Notification Server address): add 'gateway: false' and 'taskServers: 0'");
        }

        return lab with { NsNodes = count };
    }

    /// <summary><c>proxy:</c> a mapping with <c>reach</c> and <c>credentials</c>, or <c>on</c> (the defaults) / <c>off</c>.</summary>
    private ProxySpec? Proxy(ProxyDocument document)
    {
        if (document.Other is { } other)
        {
            return context.Bool(other, "proxy") is true ? new ProxySpec() : null;
        }

        context.CheckKeys(document, "'system.lab.proxy'", ScenarioDeserializer.KeysOf<ProxyDocument>());
        var spec = new ProxySpec();
        if (document.Reach is { } reach && context.Word(reach, "reach", ValidationContext.ProxyReaches) is { } where)
        {
            spec = spec with { Reach = where };
        }

        return document.Credentials is { } credentials && context.Bool(credentials, "credentials") is { } asks ? spec with { Credentials = asks } : spec;
    }

    private SystemSpec External(ExternalDocument document)
    {
        if (!context.IsMapping(document, "'external' must be a mapping with 'url', 'adminKey', 'caFile'", "'system.external'", ScenarioDeserializer.KeysOf<ExternalDocument>()))
        {
            return new LabSystem();
        }

        Uri? url = null;
        if (document.Url is { } urlNode && context.Text(urlNode, "url") is { } urlText)
        {
            if (!Uri.TryCreate(urlText, UriKind.Absolute, out url) || url.Scheme is not ("https" or "http"))
            {
                context.Error(urlNode.Start, $"'url' must be an absolute https:// address like https://ns.example:4443 (got '{urlText}')");
                url = null;
            }
        }
        else if (document.Url is null)
        {
            context.Error(document.Start, "'system.external' needs 'url' (the Notification Server's address, like https://ns.example:4443)");
        }

        var key = document.AdminKey is { } k ? context.Text(k, "adminKey") : null;
        var ca = document.CaFile is { } c ? context.Text(c, "caFile") : null;
        return url is null ? new LabSystem() : new ExternalSystem { Url = url, AdminKey = key, CaFile = ca };
    }

    // ------------------------------------------------------------ settings

    /// <summary>Targeted agent settings (<c>settings:</c>, and the <c>set-settings</c> action's).</summary>
    public SettingsSpec Settings(SettingsDocument document)
    {
        if (!context.IsMapping(document, $"'settings' must be a mapping with keys like {string.Join(", ", SettingsKeys)}", "'settings'", SettingsKeys))
        {
            return new SettingsSpec();
        }

        return new SettingsSpec
        {
            VpnAdapters = document.VpnAdapters is { } adapters ? context.StringList(adapters, "vpnAdapters") : null,
            PreferCem = document.PreferCem is { } pc ? context.Bool(pc, "preferCem") : null,
            PreferCemIfVpn = document.PreferCemIfVpn is { } pv ? context.Bool(pv, "preferCemIfVpn") : null,
            PolicyRefresh = document.PolicyRefresh is { } pr ? context.PositiveDuration(pr, "policyRefresh") : null,
            TaskPoll = document.TaskPoll is { } tp ? context.PositiveDuration(tp, "taskPoll") : null,
            KeepAlive = document.KeepAlive is { } ka ? context.PositiveDuration(ka, "keepAlive") : null,
        };
    }
}
