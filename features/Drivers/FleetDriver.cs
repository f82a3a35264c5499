using System.Diagnostics;
using Reqnroll;
using Tcm.Agent;
using Tcm.Agent.Network;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using Tcm.Lab.Fleet;
using Tcm.Lab.Network;

namespace Tcm.Features.Drivers;

/// <summary>
/// One endpoint as a scenario describes it. <see cref="VpnAdapter"/> is a preset (<c>checkpoint</c>, <c>cisco-anyconnect</c>,
/// <c>globalprotect</c>, <c>fortinet</c>, <c>wireguard</c>, <c>openvpn</c>), or <c>name / description</c> for an adapter of
/// one's own; empty for a machine without a VPN client.
/// </summary>
internal sealed record AgentDefinition
{
    public required string Name { get; init; }
    public AgentLocation Location { get; init; } = AgentLocation.Office;
    public string Group { get; init; } = "features";
    public string Site { get; init; } = "London";
    public string? VpnAdapter { get; init; }
    public bool VpnUp { get; init; }
    public CemValidity Cem { get; init; } = CemValidity.Missing;
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
}

/// <summary>An agent's state as a step reads it: whether it runs, and its Network Status panel (null while not running).</summary>
internal sealed record AgentView(string Name, bool Running, string? AgentId, NetworkStatus? Status)
{
    public bool Persistent => Status is { Transport: TransportKind.Persistent };

    public bool OnHttp => Running && Status is { Transport: TransportKind.Http };

    public override string ToString() => !Running
        ? $"{Name}: not running"
        : $"{Name} ({AgentId ?? "not registered"}): {Status?.Mode}, {Status?.Availability}, Server Connection: {Status?.TransportDetail}; route: {Status?.RouteReason}"
          + (Status?.TaskServer is { } ts ? $"; Task Server: {ts.Mode}, {ts.TransportDetail}" : "");
}

/// <summary>
/// The scenario's endpoints: real <see cref="TcmAgent"/>s (the lab's <see cref="VirtualAgent"/>s) on simulated networks in
/// the feature's lab, by name. Creates them, starts and stops them, changes their VPN and location, reads their Network
/// Status and their own log, and waits on their state with deadlines. Stops every agent when the scenario ends.
/// </summary>
internal sealed class FleetDriver(LabDriver lab) : IAsyncDisposable
{
    /// <summary>How long a step waits by default for an agent to register or connect.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(15);

    private readonly Dictionary<string, (VirtualAgent Agent, AgentLog Log, AgentDefinition Definition)> _agents = new(StringComparer.OrdinalIgnoreCase);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly HashSet<string> _failingGroups = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Agents of <paramref name="group"/> added from now on fail every task but echo, sleep and inventory.</summary>
    public void FailTasksOf(string group) => _failingGroups.Add(group);

    // Reqnroll on xUnit 2 gives bindings no run-wide token; every wait here has its own deadline instead.
    private static CancellationToken Ct => CancellationToken.None;

    public IReadOnlyCollection<string> Names => _agents.Keys;

    /// <summary>Now, on the clock of the agents' logs.</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>The lab's traffic counters when the scenario created its first agent.</summary>
    public IReadOnlyList<TrafficCell> TrafficAtStart { get; private set; } = [];

    /// <summary>Creates an agent (not started). Its computer name is its name in the scenario.</summary>
    public async Task AddAsync(AgentDefinition definition)
    {
        if (_agents.ContainsKey(definition.Name))
        {
            throw new InvalidOperationException($"the scenario already has an agent \"{definition.Name}\"");
        }

        var host = await lab.LabAsync();
        var vpnAdapter = VpnAdapterOf(definition.VpnAdapter);
        if (definition.VpnUp && vpnAdapter is null)
        {
            throw new InvalidOperationException($"\"{definition.Name}\" cannot have its VPN up without a VPN client (name its VPN adapter)");
        }

        var index = _agents.Count;
        if (index == 0)
        {
            TrafficAtStart = host.Topology.Counters.Snapshot();
        }

        var spec = new AgentSpec
        {
            Index = index,
            ComputerName = definition.Name,
            Domain = "contoso.local",
            User = @"CONTOSO\qa",
            OsName = "Windows 11 Enterprise",
            OsVersion = "10.0.22631",
            Site = definition.Site,
            GroupName = definition.Group,
            Location = definition.Location,
            Vpn = vpnAdapter is null ? VpnState.None : definition.VpnUp ? VpnState.Up : VpnState.Down,
            VpnAdapter = vpnAdapter,
            Cem = definition.Cem,
            // A group the scenario made fail runs every task other than echo, sleep and inventory to a failure.
            Task = _failingGroups.Contains(definition.Group) ? new TaskBehaviour { FailureRate = 1 } : new TaskBehaviour(),
            Hardware = new HardwareInfo("Contoso", "Latitude 7440", $"SN-{definition.Name}", 8, 16L << 30, 512L << 30),
            Software = [],
            Seed = (ulong)(index + 1),
        };
        var attributes = new Dictionary<string, string>(spec.Attributes(), StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in definition.Attributes)
        {
            attributes[key] = value;
        }

        var network = new SimulatedNetwork(host.Topology, definition.Location, vpnAdapter, definition.VpnUp, index);
        var log = new AgentLog(_clock);
        var options = new AgentOptions
        {
            Package = PackageFor(host, definition.Cem),
            ComputerName = definition.Name,
            Domain = spec.Domain,
            OsName = spec.OsName,
            Attributes = attributes,
            // Scenarios last seconds: the product's back-off (1 s doubling to 5 min) shortened, its shape kept.
            Backoff = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(500), Max = TimeSpan.FromSeconds(5) },
            StartJitter = TimeSpan.Zero,
        };
        var agent = new VirtualAgent(spec, network, options, new SimulatedTaskExecutor(spec, TimeProvider.System, network), TimeProvider.System, log);
        _agents[definition.Name] = (agent, log, definition);
    }

    public VirtualAgent Agent(string name) => Entry(name).Agent;

    public AgentLog Log(string name) => Entry(name).Log;

    public AgentDefinition Definition(string name) => Entry(name).Definition;

    public Task StartAsync(string name) => Agent(name).StartAsync(CancellationToken.None);

    public async Task StartAllAsync()
    {
        foreach (var name in _agents.Keys)
        {
            await StartAsync(name);
        }
    }

    public Task StopAsync(string name) => Agent(name).StopAsync(Ct);

    public async Task StopAllAsync(CancellationToken ct)
    {
        await Task.WhenAll(_agents.Values.Select(a => a.Agent.StopAsync(ct)));
    }

    /// <summary>The agent's state now.</summary>
    public AgentView View(string name)
    {
        var agent = Agent(name);
        var running = agent.IsRunning && agent.Agent is not null;
        return new AgentView(name, running, agent.AgentId, running ? agent.Agent!.GetNetworkStatus() : null);
    }

    /// <summary>Waits until the agent has registered with the Notification Server; returns its agent id.</summary>
    public async Task<string> WaitForAgentIdAsync(string name, TimeSpan? within = null)
    {
        var agent = Agent(name);
        if (!agent.IsRunning)
        {
            throw new InvalidOperationException($"\"{name}\" is not started");
        }

        var view = await Eventually.WaitAsync(() => View(name), v => v.AgentId is not null, within ?? DefaultWait, $"\"{name}\" to register with the Notification Server", Ct);
        return view.AgentId!;
    }

    /// <summary>Agent ids of the named agents, waiting for each to register.</summary>
    public async Task<IReadOnlyList<string>> AgentIdsAsync(IEnumerable<string> names)
    {
        var ids = new List<string>();
        foreach (var name in names)
        {
            ids.Add(await WaitForAgentIdAsync(name));
        }

        return ids;
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the agent's state.</summary>
    public Task<AgentView> WaitForAsync(string name, Func<AgentView, bool> condition, TimeSpan within, string what) =>
        Eventually.WaitAsync(() => View(name), condition, within, $"\"{name}\" {what}", Ct);

    /// <summary>Checks that <paramref name="condition"/> holds all along <paramref name="period"/>.</summary>
    public Task HoldsForAsync(string name, Func<AgentView, bool> condition, TimeSpan period, string what) =>
        Eventually.HoldsForAsync(() => View(name), condition, period, $"\"{name}\" {what}", Ct);

    /// <summary>Connects or disconnects the agent's VPN: sockets over the VPN break, the agent sees its adapters change.</summary>
    public void SetVpn(string name, bool up) => Agent(name).Network.SetVpn(up);

    /// <summary>The laptop moves: sockets whose route no longer holds break.</summary>
    public void MoveTo(string name, AgentLocation location) => Agent(name).Network.MoveTo(location);

    /// <summary>The Network Status panel's "Terminate persistent connection", on the agent.</summary>
    public async Task TerminateOnAgentAsync(string name, TimeSpan reconnectAfter)
    {
        var agent = Agent(name).Agent ?? throw new InvalidOperationException($"\"{name}\" is not running");
        await agent.TerminatePersistentConnectionAsync(reconnectAfter, Ct);
    }

    /// <summary>How many times the agent ran the task <paramref name="taskId"/> (measured around its executor).</summary>
    public int Executions(string name, string taskId) => Agent(name).Executions.GetValueOrDefault(taskId);

    /// <summary>Results the agent holds until the server acknowledges them.</summary>
    public int PendingResults(string name) => Agent(name).Agent?.PendingResults ?? 0;

    /// <summary>The lab's traffic counters now (every agent of the feature), to compare with later.</summary>
    public async Task<IReadOnlyList<TrafficCell>> TrafficAsync() => (await lab.LabAsync()).Topology.Counters.Snapshot();

    /// <summary>Bytes over VPN adapters since <paramref name="before"/>, optionally of one purpose only.</summary>
    public async Task<long> VpnBytesSinceAsync(IReadOnlyList<TrafficCell> before, TrafficPurpose? purpose = null)
    {
        static long Sum(IEnumerable<TrafficCell> cells, TrafficPurpose? p) =>
            cells.Where(c => c.Adapter == AdapterKind.Vpn && (p is null || c.Purpose == p)).Sum(c => c.BytesSent + c.BytesReceived);
        return Sum(await TrafficAsync(), purpose) - Sum(before, purpose);
    }

    /// <summary>
    /// Connections the scenario's agents opened straight to the servers' own (corporate) addresses since
    /// <paramref name="before"/>, for management or Task Server traffic: anything but the gateway. Reachability probes do not count.
    /// </summary>
    public async Task<long> DirectServerConnectionsSinceAsync(IReadOnlyList<TrafficCell> before)
    {
        static long Sum(IEnumerable<TrafficCell> cells) =>
            cells.Where(c => c.Destination == EndpointClass.Corporate && c.Purpose is TrafficPurpose.Management or TrafficPurpose.TaskServer).Sum(c => c.Connections);
        return Sum(await TrafficAsync()) - Sum(before);
    }

    /// <summary>
    /// The agent as an installed one: started until it has registered and received its policy (it is then on the persistent
    /// connection), then stopped. It keeps its identity and policy (the virtual agent keeps its state store) for its next start.
    /// </summary>
    public async Task InstallAsync(string name)
    {
        await StartAsync(name);
        await WaitForAsync(name, v => v.Persistent, DefaultWait, "to register and receive its policy");
        await StopAsync(name);
    }

    private readonly Dictionary<(string Agent, string Package), DownloadResult> _downloads = [];

    /// <summary>The agent downloads a package with its own download client (codebase choice, route) and keeps the outcome.</summary>
    public async Task DownloadAsync(string name, PackageReference package)
    {
        var agent = Agent(name).Agent ?? throw new InvalidOperationException($"\"{name}\" is not running");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        _downloads[(name.ToUpperInvariant(), package.Id)] = await agent.DownloadPackageAsync(package, deadline.Token);
    }

    /// <summary>The outcome of the agent's download of <paramref name="packageId"/>.</summary>
    public DownloadResult Download(string name, string packageId) =>
        _downloads.TryGetValue((name.ToUpperInvariant(), packageId), out var result)
            ? result
            : throw new InvalidOperationException($"\"{name}\" has not downloaded the package '{packageId}'");

    /// <summary>Every agent's log, for a failed scenario's output.</summary>
    public IEnumerable<(string Name, AgentLog Log)> Logs => _agents.Select(a => (a.Key, a.Value.Log));

    public async ValueTask DisposeAsync()
    {
        foreach (var (agent, _, _) in _agents.Values)
        {
            await agent.DisposeAsync();
        }

        _agents.Clear();
    }

    private (VirtualAgent Agent, AgentLog Log, AgentDefinition Definition) Entry(string name) =>
        _agents.TryGetValue(name, out var entry)
            ? entry
            : throw new InvalidOperationException($"the scenario has no agent \"{name}\" (it has: {string.Join(", ", _agents.Keys.Select(k => $"\"{k}\""))})");

    /// <summary>The install package, with the CEM settings the scenario gives the machine.</summary>
    private static InstallPackage PackageFor(LabHost host, CemValidity cem)
    {
        if (cem == CemValidity.Missing)
        {
            return host.Package with { Cem = null };
        }

        // Valid and invalid settings only mean something next to a gateway that works: both need the lab's.
        if (host.Cem is not { } cemSettings)
        {
            throw new PendingStepException(
                $"Missing capability: {cem.ToString().ToLowerInvariant()} CEM settings need the lab's CEM Internet Gateway, which it does not run (no 'gateway' endpoint in the topology).");
        }

        // Invalid: the gateway's settings as an administrator switched them off, which the agent must refuse to use.
        return host.Package with { Cem = cem == CemValidity.Invalid ? cemSettings with { Enabled = false } : cemSettings };
    }

    private static VpnAdapterSpec? VpnAdapterOf(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (VpnAdapterPresets.Find(text.Trim()) is { } preset)
        {
            return preset;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash > 0
            ? new VpnAdapterSpec(text[..slash].Trim(), text[(slash + 1)..].Trim())
            : throw new InvalidOperationException(
                $"VPN adapter '{text}' is neither a preset ({string.Join(", ", VpnAdapterPresets.Names)}) nor 'name / description'");
    }
}
