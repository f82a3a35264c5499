using Tcm.Protocol;
using Tcm.Lab.Network;

namespace Tcm.Lab.Fleet;

/// <summary>
/// Everything about one virtual agent that does not change during a run: identity, machine, group, starting location and VPN,
/// CEM validity, inventory. Built by the simulator's fleet builder (or a feature's driver); agent <see cref="Index"/> k is the same for a seed whatever
/// the order or shard it is built in.
/// </summary>
public sealed record AgentSpec
{
    /// <summary>0-based position in the fleet; shards take <c>Index % N == i</c>.</summary>
    public required int Index { get; init; }
    /// <summary>NetBIOS-style name, unique in the fleet, e.g. <c>NYC-LT-00042</c>.</summary>
    public required string ComputerName { get; init; }
    /// <summary>AD domain, e.g. <c>contoso.local</c>.</summary>
    public required string Domain { get; init; }
    /// <summary>Logged-on user, e.g. <c>CONTOSO\jsmith</c>.</summary>
    public required string User { get; init; }
    public required string OsName { get; init; }
    public required string OsVersion { get; init; }
    /// <summary>Site attribute (targets can match it).</summary>
    public required string Site { get; init; }
    /// <summary>The name of the group (of a scenario's fleet, or a feature's) this agent belongs to.</summary>
    public required string GroupName { get; init; }
    /// <summary>How the simulated executor runs this agent's tasks (its group's behaviour). Default: never fails, 100ms..500ms.</summary>
    public TaskBehaviour Task { get; init; } = new();
    /// <summary>Where it starts.</summary>
    public required AgentLocation Location { get; init; }
    /// <summary>VPN client and state at start.</summary>
    public required VpnState Vpn { get; init; }
    /// <summary>The adapter the VPN client adds; null without a VPN client.</summary>
    public VpnAdapterSpec? VpnAdapter { get; init; }

    /// <summary>
    /// The adapters of every VPN client on the machine, in the order corporate traffic prefers them: <see cref="VpnAdapter"/> alone
    /// unless set (a machine with two VPN clients).
    /// </summary>
    public IReadOnlyList<VpnAdapterSpec> VpnAdapters
    {
        get => _vpnAdapters ?? (VpnAdapter is { } adapter ? [adapter] : []);
        init => _vpnAdapters = value;
    }

    private readonly IReadOnlyList<VpnAdapterSpec>? _vpnAdapters;
    public required CemValidity Cem { get; init; }
    public required HardwareInfo Hardware { get; init; }
    /// <summary>Installed applications (shared catalogue entries).</summary>
    public required IReadOnlyList<InstalledSoftware> Software { get; init; }
    /// <summary>Seed of this agent's own random choices (task durations and failures).</summary>
    public required ulong Seed { get; init; }

    /// <summary>Attributes the agent registers with, for targets: <c>site</c>, <c>group</c>, <c>location</c>, <c>os</c>.</summary>
    public IReadOnlyDictionary<string, string> Attributes() => new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["site"] = Site,
        ["group"] = GroupName,
        ["location"] = Location == AgentLocation.Office ? "office" : "internet",
        ["os"] = OsName,
        ["model"] = Hardware.Model,
    };

    /// <summary>The inventory the agent reports, collected at <paramref name="at"/>.</summary>
    /// <param name="at">Collection time.</param>
    /// <param name="ipAddresses">Addresses of the up adapters now.</param>
    /// <param name="includeSoftware">Whether to include installed software (basic inventory does not).</param>
    public BasicInventory ToInventory(DateTimeOffset at, IReadOnlyList<string>? ipAddresses, bool includeSoftware) => new()
    {
        ComputerName = ComputerName,
        Domain = Domain,
        OsName = OsName,
        OsVersion = OsVersion,
        ProcessorCount = Hardware.ProcessorCount,
        MemoryBytes = Hardware.MemoryBytes,
        IpAddresses = ipAddresses,
        LoggedOnUser = User,
        Software = includeSoftware ? Software : null,
        CollectedAt = at,
    };
}

/// <summary>The machine.</summary>
public sealed record HardwareInfo(string Manufacturer, string Model, string SerialNumber, int ProcessorCount, long MemoryBytes, long DiskBytes);
