using System.Net;
using System.Net.Sockets;

namespace Tcm.Protocol;

/// <summary>How a TCM peer opens a TCP connection: Nagle off (channel frames are small and waiting on them costs latency), the socket owned by the stream, and closed again when the connect fails.</summary>
public static class TcpDial
{
    /// <summary>Connects to <paramref name="endpoint"/> (a name or an address).</summary>
    public static async ValueTask<NetworkStream> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
