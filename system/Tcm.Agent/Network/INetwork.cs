using System.Net;

namespace Tcm.Agent.Network;

/// <summary>
/// The agent's only way out: every socket the agent opens goes through this seam, and the agent reads its adapters from it.
/// The OS implementation (<see cref="OsNetwork"/>) dials real sockets and reads <c>NetworkInterface</c>; the simulator's decides
/// reachability and the adapter a connection leaves by, refuses what is unreachable, and counts bytes per adapter.
/// The agent never picks an adapter: it only chooses whom to call (the server directly, or the CEM gateway).
/// </summary>
public interface INetwork
{
    /// <summary>
    /// Opens a TCP connection to <paramref name="endpoint"/>. Throws <see cref="System.Net.Sockets.SocketException"/>
    /// (<c>NetworkUnreachable</c>, <c>HostUnreachable</c>, <c>ConnectionRefused</c>, <c>TimedOut</c>) when it cannot.
    /// </summary>
    ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken);

    /// <summary>The adapters the machine has now (up or down).</summary>
    IReadOnlyList<NetworkAdapter> GetAdapters();

    /// <summary>Raised when an adapter appears, disappears, or goes up or down.</summary>
    event EventHandler? AdaptersChanged;
}

/// <summary>What a connection is for; the simulated network accounts traffic by it.</summary>
public enum TrafficPurpose
{
    /// <summary>The core agent's traffic with its Notification Server (channel and HTTP).</summary>
    Management,
    /// <summary>The Client Task Agent's traffic with its Task Server.</summary>
    TaskServer,
    /// <summary>Package downloads.</summary>
    Download,
    /// <summary>A reachability probe.</summary>
    Probe,
}

/// <summary>A network adapter as the agent sees it.</summary>
/// <param name="Name">Interface name, e.g. <c>Wi-Fi</c> or <c>Global\AeX{...}</c>.</param>
/// <param name="Description">Adapter description, e.g. <c>Check Point Virtual Network Adapter For Endpoint VPN Client</c>.</param>
/// <param name="IsUp">Operational status.</param>
/// <param name="Addresses">Unicast addresses.</param>
public sealed record NetworkAdapter(string Name, string Description, bool IsUp, IReadOnlyList<string> Addresses);
