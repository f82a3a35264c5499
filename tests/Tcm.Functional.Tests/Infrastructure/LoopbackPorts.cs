using System.Net.Sockets;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>Ports on 127.0.0.1 for servers a test must name before they run.</summary>
internal static class LoopbackPorts
{
    /// <summary>A loopback port nothing listens on (taken from the OS, then released).</summary>
    public static int Free()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
