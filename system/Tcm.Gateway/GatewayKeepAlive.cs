using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tcm.Gateway;

/// <summary>
/// The gateway's HTTP/2 keep-alive pings, both sides in one place: on agent connections (Kestrel) when
/// <see cref="GatewayOptions.Http2KeepAlivePingDelay"/> is set (off by default), on backend connections (the shared upstream
/// handlers) every <see cref="GatewayOptions.BackendKeepAlivePingDelay"/> while they carry requests or tunnels.
/// </summary>
/// <remarks>
/// Why the agents' side is off by default: at 4,000 idle agents the ping every 30 s was the whole of the gateway's idle CPU
/// above bare Kestrel (measured, docs/benchmarks.md, Gateway), and it proves nothing the channels do not: the agents ping
/// every channel, and a dead agent's tunnel ends when the gateway (<see cref="KeepAlive.TunnelWatch"/>) or its backend finds
/// the agent silent, or when the tunnel has been silent for <see cref="GatewayOptions.TunnelIdleTimeout"/>; the agent connection, left without streams,
/// is then closed after <see cref="GatewayOptions.KeepAliveTimeout"/>. The backend side stays on: a few connections carry
/// every tunnel, and a ping finds a dead one for all of them at once.
/// </remarks>
internal static class GatewayKeepAlive
{
    /// <summary>Kestrel's HTTP/2 limits of the agent listener.</summary>
    public static void Apply(GatewayOptions options, Http2Limits limits)
    {
        if (options.Http2KeepAlivePingDelay > TimeSpan.Zero)
        {
            limits.KeepAlivePingDelay = options.Http2KeepAlivePingDelay;
            limits.KeepAlivePingTimeout = options.Http2KeepAlivePingTimeout;
        }
    }

    /// <summary>A backend identity's shared upstream handler.</summary>
    public static void Apply(GatewayOptions options, SocketsHttpHandler handler)
    {
        handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
        if (options.BackendKeepAlivePingDelay > TimeSpan.Zero)
        {
            handler.KeepAlivePingDelay = options.BackendKeepAlivePingDelay;
            handler.KeepAlivePingTimeout = options.Http2KeepAlivePingTimeout;
        }
    }
}
