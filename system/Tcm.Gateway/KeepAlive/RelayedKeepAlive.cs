using System.Globalization;
using Microsoft.AspNetCore.Http;
using Tcm.Hosting.Channels;
using Tcm.Protocol;

namespace Tcm.Gateway.KeepAlive;

/// <summary>
/// The keep-alive of one relayed channel whose agent announced its interval (<see cref="ProtocolConstants.KeepAliveHeader"/>):
/// the gateway answers the agent's pings and ends the tunnel after two of <see cref="AgentInterval"/> without a byte from the
/// agent; towards the backend it announces <see cref="BackendInterval"/> instead and forwards one of the agent's pings when the
/// backend has heard nothing for that long. A channel whose agent announced nothing is relayed byte for byte, as before.
/// </summary>
/// <param name="AgentInterval">The interval the agent announced.</param>
/// <param name="BackendInterval">The interval announced to the backend: the agent's, or <see cref="GatewayOptions.RelayedKeepAliveInterval"/> when longer.</param>
internal readonly record struct RelayedKeepAlive(TimeSpan AgentInterval, TimeSpan BackendInterval)
{
    /// <summary>The longest interval the header carries.</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(3600);

    /// <summary>How long the agent may be silent before its tunnel ends: two of its intervals, as a server would close its channel.</summary>
    public TimeSpan SilenceLimit => AgentInterval * 2;

    /// <summary>
    /// How long the backend may take to answer the upgrade (<see cref="Relay.HandshakeDeadline"/>): what YARP's activity timeout of
    /// the tunnel was before the gateway watched it (the backend hears one of the agent's pings at least every backend interval and
    /// one agent interval, and a relayed interval more is left for its pong); never less than <see cref="GatewayOptions.TunnelIdleTimeout"/>.
    /// </summary>
    public TimeSpan HandshakeTimeout(TimeSpan tunnelIdleTimeout) => Max(tunnelIdleTimeout, BackendInterval * 2 + AgentInterval);

    /// <summary>The header's value towards the backend.</summary>
    public string BackendHeader => ((long)BackendInterval.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>The relayed keep-alive of a WebSocket opening, or null when the agent announced none or the gateway relays pings.</summary>
    public static RelayedKeepAlive? For(HttpRequest request, GatewayOptions options)
    {
        if (options.RelayedKeepAliveInterval <= TimeSpan.Zero || ChannelUpgrade.AnnouncedKeepAlive(request.Headers[ProtocolConstants.KeepAliveHeader]) is not { } interval)
        {
            return null;
        }

        var backend = TimeSpan.FromSeconds(Math.Ceiling(Max(interval, options.RelayedKeepAliveInterval).TotalSeconds));
        return new RelayedKeepAlive(interval, backend > Longest ? Longest : backend);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
