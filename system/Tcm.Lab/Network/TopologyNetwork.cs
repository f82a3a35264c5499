using System.Net;
using System.Net.Sockets;
using Tcm.Agent.Network;
using Tcm.Protocol;

namespace Tcm.Lab.Network;

/// <summary>
/// The network beyond the lab's proxy: it reaches every endpoint of the <see cref="NetworkTopology"/> (the proxy sits where corporate
/// and public servers are both reachable), refuses a stopped one, and counts nothing (the agent's leg to the proxy is counted by the
/// agent's own <see cref="SimulatedNetwork"/>). It has no adapters.
/// </summary>
public sealed class TopologyNetwork(NetworkTopology topology) : INetwork
{
    /// <inheritdoc />
    public event EventHandler? AdaptersChanged
    {
        add { }
        remove { }
    }

    /// <inheritdoc />
    public IReadOnlyList<NetworkAdapter> GetAdapters() => [];

    /// <inheritdoc />
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken)
    {
        var registered = topology.Find(endpoint) ?? throw new SocketException((int)SocketError.HostNotFound);
        return registered.IsUp
            ? await TcpDial.ConnectAsync(registered.Target, cancellationToken).ConfigureAwait(false)
            : throw new SocketException((int)SocketError.ConnectionRefused);
    }
}
