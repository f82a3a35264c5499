namespace Tcm.Lab;

/// <summary>What an <see cref="InProcessLab"/> runs beside its Notification Server (<c>ns</c>, always).</summary>
public sealed record LabOptions
{
    /// <summary>Whether TCM communication is on when the Notification Server first runs. Default: true.</summary>
    public bool Tcm { get; init; } = true;

    /// <summary>How many Task Servers to run (<c>ts1</c>, <c>ts2</c>, ...); 0 or more. Default: 1.</summary>
    public int TaskServers { get; init; } = 1;

    /// <summary>Whether to run a CEM Internet Gateway (<c>gateway</c>) in front of every server and the package server. Default: true.</summary>
    public bool Gateway { get; init; } = true;

    /// <summary>The lab's HTTP proxy (<c>proxy</c>), or null for none. Default: none.</summary>
    public LabProxyOptions? Proxy { get; init; }

    /// <summary>
    /// Where the Notification Server keeps its data: the SQLite file in its data folder, or a fresh PostgreSQL database the lab
    /// creates and drops (<see cref="Storage.StoreSelection"/>). Default: null, what <c>TCM_TEST_STORE</c> picks (SQLite when unset).
    /// </summary>
    public Storage.StoreKind? Store { get; init; }

    /// <summary>
    /// How many Notification Server nodes share the store: 1 (the default) runs <c>ns</c>; more run <c>ns-1</c>, <c>ns-2</c>, ...
    /// (see <see cref="InProcessLab.NodeNames"/>), which needs <see cref="Store"/> PostgreSQL, no gateway and no Task Servers.
    /// </summary>
    public int NotificationServerNodes { get; init; } = 1;
}

/// <summary>The lab's CONNECT proxy: who reaches it, and whether it asks for credentials.</summary>
public sealed record LabProxyOptions
{
    /// <summary>
    /// Where it sits: <see cref="Network.EndpointClass.Corporate"/> reaches it from the office (and over an up VPN), <see cref="Network.EndpointClass.Public"/>
    /// from anywhere. Default: corporate.
    /// </summary>
    public Network.EndpointClass Reach { get; init; } = Network.EndpointClass.Corporate;

    /// <summary>The Basic credentials it asks for (and agents' profiles give); null: none. Default: none.</summary>
    public System.Net.NetworkCredential? Credentials { get; init; }
}
