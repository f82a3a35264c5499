using System.Net;
using System.Net.Sockets;
using Tcm.Agent.Network;

namespace Tcm.LoadTests.TcmVariant.Client;

/// <summary>
/// The agents' network in the load test: every host name dials 127.0.0.1 on the requested port (the server's certificate is
/// still checked against the host name in the install package), one up adapter. No name resolution and no IPv6 attempt first,
/// so a connect costs what the baseline's costs.
/// </summary>
internal sealed class LoopbackNetwork : INetwork
{
    private static readonly IReadOnlyList<NetworkAdapter> Adapters = [new("Ethernet", "Load-test loopback", IsUp: true, ["127.0.0.1"])];

    public static LoopbackNetwork Instance { get; } = new();

    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, endpoint.Port), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public IReadOnlyList<NetworkAdapter> GetAdapters() => Adapters;

    public event EventHandler? AdaptersChanged
    {
        add { }
        remove { }
    }
}
