namespace Tcm.Simulator.Scenarios;

/// <summary>
/// A scenario as loaded from a YAML file by <see cref="ScenarioLoader"/>: what system to run against, which fleet,
/// the agent settings at start, a timeline of events and the expectations that decide pass or fail.
/// Immutable; <c>docs/scenarios.md</c> is the reference of the file format.
/// </summary>
internal sealed record Scenario
{
    /// <summary>Short name (<c>name:</c>); defaults to the file name without extension.</summary>
    public required string Name { get; init; }
    /// <summary>One or two sentences for <c>list</c> and the report.</summary>
    public string? Description { get; init; }
    /// <summary>Seed of every random choice (fleet, task outcomes, jitter). Default 1.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Hard stop of the run (<c>duration:</c>). Default 5 minutes.</summary>
    public TimeSpan Duration { get; init; } = DefaultDuration;

    /// <summary>The run length when a file gives no <c>duration</c>: 5 minutes.</summary>
    public static TimeSpan DefaultDuration { get; } = TimeSpan.FromMinutes(5);
    /// <summary>What the fleet runs against.</summary>
    public SystemSpec System { get; init; } = new LabSystem();
    public required FleetSpec Fleet { get; init; }
    /// <summary>Targeted agent settings at start (all agents).</summary>
    public SettingsSpec Settings { get; init; } = new();
    /// <summary>Events in file order.</summary>
    public IReadOnlyList<TimelineEvent> Timeline { get; init; } = [];
    /// <summary>Named expectations in file order.</summary>
    public IReadOnlyList<Expectation> Expectations { get; init; } = [];
    /// <summary>The file it came from, as given to the loader.</summary>
    public string? SourceFile { get; init; }

    /// <summary>The event with this id, or null.</summary>
    public TimelineEvent? FindEvent(string id) => Timeline.FirstOrDefault(e => string.Equals(e.Id, id, StringComparison.Ordinal));

    /// <summary>The group with this name, or null.</summary>
    public GroupSpec? FindGroup(string name) => Fleet.Groups.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A place in a scenario file (1-based line and column), for errors the engine reports at run time.</summary>
internal readonly record struct SourcePosition(int Line, int Column)
{
    public override string ToString() => $"{Line}:{Column}";
}

// ------------------------------------------------------------------ system

/// <summary>The system under test: <see cref="LabSystem"/> or <see cref="ExternalSystem"/>.</summary>
internal abstract record SystemSpec;

/// <summary>
/// <c>system: lab</c> (the default): the Notification Server, Task Servers and the CEM gateway started in-process on loopback.
/// </summary>
internal sealed record LabSystem : SystemSpec
{
    /// <summary>Initial server setting "TCM communication" (<c>tcm: on|off</c>). Default on.</summary>
    public bool Tcm { get; init; } = true;
    /// <summary>Number of Task Servers (<c>ts1</c>, <c>ts2</c>, ...). Default 1; 0 allowed.</summary>
    public int TaskServers { get; init; } = 1;
    /// <summary>Whether a CEM gateway runs. Default true.</summary>
    public bool Gateway { get; init; } = true;
    /// <summary>"Persistent connection is enabled" on the Default communication profile. Default true.</summary>
    public bool Persistent { get; init; } = true;
    /// <summary>The lab's CONNECT proxy (<c>proxy</c>), or null for none. Default none.</summary>
    public ProxySpec? Proxy { get; init; }
    /// <summary>Where the Notification Server keeps its data (<c>store: sqlite|postgresql</c>); null: what <c>TCM_TEST_STORE</c> picks (SQLite when unset).</summary>
    public global::Tcm.Lab.Storage.StoreKind? Store { get; init; }
    /// <summary>How many Notification Server nodes share the store (<c>nsNodes</c>). Default 1; more need <c>store: postgresql</c>.</summary>
    public int NsNodes { get; init; } = 1;
    /// <summary>The nodes' names, as <c>server:</c> and <c>of node</c> name them: <c>ns</c>, or <c>ns-1</c>, <c>ns-2</c>, ...</summary>
    public IReadOnlyList<string> NodeNames => global::Tcm.Lab.InProcessLab.NodeNames(NsNodes);
}

/// <summary><c>system.lab.proxy</c>: where the lab's proxy sits and whether it asks for credentials.</summary>
internal sealed record ProxySpec
{
    /// <summary>Who reaches it: corporate (<c>reach: office</c>, from the office or over an up VPN) or public (<c>reach: anywhere</c>). Default office.</summary>
    public EndpointClass Reach { get; init; } = EndpointClass.Corporate;
    /// <summary>Whether it asks for a user name and password (the profiles give them). Default false.</summary>
    public bool Credentials { get; init; }
}

/// <summary>A group's use of the lab's proxy (<c>proxy:</c> on a group): its profile's proxy settings.</summary>
internal enum GroupProxy
{
    /// <summary>No proxy settings (the default).</summary>
    None,
    /// <summary><c>only</c>: through the proxy, never directly when it fails.</summary>
    Only,
    /// <summary><c>or-direct</c>: through the proxy, directly when it fails.</summary>
    OrDirect,
}

/// <summary><c>system: external</c>: an already running deployment reached through its admin API.</summary>
internal sealed record ExternalSystem : SystemSpec
{
    /// <summary>Base address of the Notification Server.</summary>
    public required Uri Url { get; init; }
    /// <summary>Admin API key; <c>${VAR}</c> is expanded from the environment at run time.</summary>
    public string? AdminKey { get; init; }
    /// <summary>PEM of the CA the servers' certificates chain to, relative to the scenario file.</summary>
    public string? CaFile { get; init; }
}

// ------------------------------------------------------------------ fleet

/// <summary><c>fleet:</c> how many agents and how they are split into groups.</summary>
internal sealed record FleetSpec
{
    /// <summary>Total number of virtual agents (before <c>--agents</c>).</summary>
    public required int Agents { get; init; }
    public required IReadOnlyList<GroupSpec> Groups { get; init; }
    /// <summary><c>legacy:</c> whether the fleet runs pre-TCM pure HTTP polling, or both ways for a comparison.</summary>
    public LegacyMode Legacy { get; init; }

    /// <summary>
    /// Agent count of each group (same order as <see cref="Groups"/>) for <paramref name="agents"/> agents in total:
    /// fixed <c>count</c>s first, the rest split by <c>share</c> with the largest-remainder method, so the counts add up exactly.
    /// </summary>
    public IReadOnlyList<int> ResolveCounts(int agents)
    {
        var counts = new int[Groups.Count];
        var fixedTotal = 0;
        for (var i = 0; i < Groups.Count; i++)
        {
            if (Groups[i].Count is { } c)
            {
                counts[i] = c;
                fixedTotal += c;
            }
        }

        var rest = Math.Max(0, agents - fixedTotal);
        var shareTotal = Groups.Sum(g => g.Share ?? 0);
        if (shareTotal <= 0)
        {
            return counts;
        }

        var remainders = new List<(int Index, double Remainder)>();
        var assigned = 0;
        for (var i = 0; i < Groups.Count; i++)
        {
            if (Groups[i].Share is { } s)
            {
                var exact = rest * s / shareTotal;
                counts[i] = (int)Math.Floor(exact);
                assigned += counts[i];
                remainders.Add((i, exact - counts[i]));
            }
        }

        foreach (var (index, _) in remainders.OrderByDescending(r => r.Remainder).ThenBy(r => r.Index).Take(rest - assigned))
        {
            counts[index]++;
        }

        return counts;
    }
}

/// <summary><c>legacy:</c> values.</summary>
internal enum LegacyMode
{
    /// <summary>TCM as configured (<c>legacy: false</c>, the default).</summary>
    Off,
    /// <summary>The same fleet in pre-TCM pure HTTP polling mode (<c>legacy: true</c>).</summary>
    On,
    /// <summary>Run twice, TCM then legacy, and compare (<c>legacy: compare</c>); enables <c>legacy</c> in traffic expectations.</summary>
    Compare,
}

/// <summary>One group of the fleet.</summary>
internal sealed record GroupSpec
{
    public required string Name { get; init; }
    /// <summary>Share of the fleet 0..1 (<c>share: 25%</c>); null when <see cref="Count"/> is given.</summary>
    public double? Share { get; init; }
    /// <summary>Fixed number of agents (<c>count: 50</c>); null when <see cref="Share"/> is given.</summary>
    public int? Count { get; init; }
    public AgentLocation Location { get; init; } = AgentLocation.Office;
    public VpnState Vpn { get; init; } = VpnState.None;
    /// <summary>
    /// The adapters the machine's VPN clients add (<c>vpnAdapter</c>, or several with <c>vpnAdapters</c>), in the order corporate
    /// traffic prefers them; empty when <see cref="Vpn"/> is none.
    /// </summary>
    public IReadOnlyList<VpnAdapterSpec> VpnAdapters { get; init; } = [];
    public CemValidity Cem { get; init; } = CemValidity.Valid;
    /// <summary>Whether the group's communication profile enables persistent connections; null: the system default profile.</summary>
    public bool? Persistent { get; init; }
    /// <summary>Whether the group's communication profile sends it through the lab's proxy, and whether directly when the proxy fails.</summary>
    public GroupProxy Proxy { get; init; }
    /// <summary>OS name (or prefix, e.g. <c>Windows 10</c>); null: a realistic mix.</summary>
    public string? Os { get; init; }
    /// <summary>Site attribute; null: generated.</summary>
    public string? Site { get; init; }
    public TaskBehaviour Task { get; init; } = new();
    public SourcePosition Position { get; init; }
}

// ------------------------------------------------------------------ settings

/// <summary>
/// Targeted agent settings as a scenario writes them (<c>settings:</c>, <c>set-settings</c>): every field optional;
/// unset fields keep the value they had (the product's defaults at start).
/// </summary>
internal sealed record SettingsSpec
{
    /// <summary>"VPN Adapters Detection": adapter name or description patterns with <c>*</c>/<c>?</c>.</summary>
    public IReadOnlyList<string>? VpnAdapters { get; init; }
    public bool? PreferCem { get; init; }
    public bool? PreferCemIfVpn { get; init; }
    public TimeSpan? PolicyRefresh { get; init; }
    public TimeSpan? TaskPoll { get; init; }
    public TimeSpan? KeepAlive { get; init; }

    /// <summary>Whether nothing is set.</summary>
    public bool IsEmpty => VpnAdapters is null && PreferCem is null && PreferCemIfVpn is null && PolicyRefresh is null && TaskPoll is null && KeepAlive is null;

    /// <summary>These settings laid over <paramref name="settings"/>.</summary>
    public Tcm.Protocol.AgentSettings ApplyTo(Tcm.Protocol.AgentSettings settings) => settings with
    {
        VpnAdapters = VpnAdapters ?? settings.VpnAdapters,
        PreferCem = PreferCem ?? settings.PreferCem,
        PreferCemIfVpn = PreferCemIfVpn ?? settings.PreferCemIfVpn,
        PolicyRefreshSeconds = PolicyRefresh is { } p ? Seconds(p) : settings.PolicyRefreshSeconds,
        TaskPollSeconds = TaskPoll is { } t ? Seconds(t) : settings.TaskPollSeconds,
        KeepAliveSeconds = KeepAlive is { } k ? Seconds(k) : settings.KeepAliveSeconds,
    };

    private static int Seconds(TimeSpan value) => Math.Max(1, (int)Math.Round(value.TotalSeconds));
}

// ------------------------------------------------------------------ selection

/// <summary>
/// Which agents an event or a condition applies to (<c>select:</c>): all, or the agents of some groups,
/// narrowed by <see cref="Where"/>, then a share or a count of those (picked with the scenario seed).
/// </summary>
internal sealed record Selection
{
    /// <summary>Every agent.</summary>
    public static Selection All { get; } = new();

    /// <summary>Group names; empty means every group.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];
    /// <summary>Filter on agent state and attributes.</summary>
    public SelectionFilter Where { get; init; } = SelectionFilter.None;
    /// <summary>Take this share (0..1) of the matching agents.</summary>
    public double? Share { get; init; }
    /// <summary>Take this many of the matching agents.</summary>
    public int? Count { get; init; }

    public bool IsAll => Groups.Count == 0 && Where.IsEmpty && Share is null && Count is null;

    public override string ToString()
    {
        if (IsAll)
        {
            return "all";
        }

        var parts = new List<string>();
        if (Share is { } s)
        {
            parts.Add($"{s * 100:0.##}% of");
        }
        else if (Count is { } c)
        {
            parts.Add($"{c} of");
        }

        parts.Add(Groups.Count == 0 ? "all" : "group " + string.Join(", ", Groups));
        if (!Where.IsEmpty)
        {
            parts.Add("where " + Where);
        }

        return string.Join(' ', parts);
    }
}

/// <summary><c>where:</c> every set field must match (state is evaluated when the event fires).</summary>
internal sealed record SelectionFilter
{
    public static SelectionFilter None { get; } = new();

    public AgentLocation? Location { get; init; }
    public VpnState? Vpn { get; init; }
    public CemValidity? Cem { get; init; }
    /// <summary>Connection mode now: direct, cem or offline.</summary>
    public Tcm.Protocol.Admin.ConnectionMode? Mode { get; init; }
    /// <summary>Transport now: persistent or http.</summary>
    public Tcm.Protocol.Admin.TransportKind? Transport { get; init; }
    /// <summary>Wildcard patterns on attributes (<c>os</c>, <c>site</c>, <c>computerName</c>, <c>domain</c>).</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    public bool IsEmpty => Location is null && Vpn is null && Cem is null && Mode is null && Transport is null && Attributes.Count == 0;

    public override string ToString()
    {
        var parts = new List<string>();
        if (Location is { } l) parts.Add($"location={l.ToString().ToLowerInvariant()}");
        if (Vpn is { } v) parts.Add($"vpn={v.ToString().ToLowerInvariant()}");
        if (Cem is { } c) parts.Add($"cem={c.ToString().ToLowerInvariant()}");
        if (Mode is { } m) parts.Add($"mode={m.ToString().ToLowerInvariant()}");
        if (Transport is { } t) parts.Add($"transport={t.ToString().ToLowerInvariant()}");
        parts.AddRange(Attributes.Select(a => $"{a.Key}={a.Value}"));
        return string.Join(", ", parts);
    }
}
