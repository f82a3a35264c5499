using System.Globalization;
using Microsoft.AspNetCore.Http;
using Tcm.Hosting.Channels;
using Tcm.Protocol;

namespace Tcm.Gateway.KeepAlive;

/// <summary>
/// The keep-alive of one relayed channel whose agent announced its interval (<see cref="ProtocolConstants.KeepAliveHeader"/>):
/// the gateway answers the agent's pings and ends the tunnel after two of <see cref="AgentInterval"/> without a byte from the
/// agent; it forwards one of the agent's pings when the backend has heard nothing from the agent for <see cref="ForwardAfter"/>
/// and announces <see cref="BackendInterval"/> to the backend in the agent's stead. A channel whose agent announced nothing is
/// relayed byte for byte, as before.
/// </summary>
/// <remarks>
/// Why the backend is told more than the relayed interval when the agent's interval is over half of it: the ping forwarded is the
/// first that comes <see cref="ForwardAfter"/> or more after the backend last heard the agent, and the agent's next byte may come
/// up to two of its intervals after its last one (later, the gateway ends the tunnel itself). The backend may so hear nothing for
/// just under <see cref="ForwardAfter"/> and two agent intervals, and it closes the channel after two announced intervals: told
/// the relayed interval alone, an agent pinging every 299 s against 300 s reached the backend 598 s apart against a limit of
/// 600 s, and a ping 3 s late lost it the channel its own server would have kept. Announced as here, the backend closes only a
/// channel the gateway would have ended. Cost at the defaults (60 s agents, 300 s relayed): none, the backend is told 300 s and
/// hears 12 pings per agent and hour as before; 299 s agents: still 6 per hour, the backend told 449 s (it finds a gateway
/// that vanished without a reset after 898 s instead of 600 s). Forwarding earlier instead (when the next ping would come after
/// the relayed interval) would have sent 15 pings per agent and hour at the defaults and 12 instead of 6 at 299 s.
/// </remarks>
/// <param name="AgentInterval">The interval the agent announced.</param>
/// <param name="RelayedInterval">
/// How often the backend is to hear one of the agent's pings: <see cref="GatewayOptions.RelayedKeepAliveInterval"/>, or the agent's
/// interval when longer, in whole seconds.
/// </param>
internal readonly record struct RelayedKeepAlive(TimeSpan AgentInterval, TimeSpan RelayedInterval)
{
    /// <summary>The longest interval the header carries.</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(3600);

    /// <summary>How long the agent may be silent before its tunnel ends: two of its intervals, as a server would close its channel.</summary>
    public TimeSpan SilenceLimit => AgentInterval * 2;

    /// <summary>
    /// The interval announced to the backend: the relayed interval, or half of it and the agent's when that is longer, so that two of
    /// it cover the longest wait the gateway lets pass (<see cref="ForwardAfter"/> and two agent intervals); at most an hour.
    /// </summary>
    public TimeSpan BackendInterval => Min(Longest, Max(RelayedInterval, TimeSpan.FromSeconds(Math.Ceiling(RelayedInterval.TotalSeconds / 2 + AgentInterval.TotalSeconds))));

    /// <summary>
    /// How long the backend must have heard nothing from the agent before one of its pings is forwarded: the relayed interval, less
    /// where the hour's cap on <see cref="BackendInterval"/> leaves less room (zero: every ping is forwarded).
    /// </summary>
    public TimeSpan ForwardAfter => Min(RelayedInterval, BackendInterval * 2 - SilenceLimit);

    /// <summary>
    /// How long the backend may take to answer the upgrade (<see cref="Relay.HandshakeDeadline"/>): what YARP's activity timeout of
    /// the tunnel was before the gateway watched it (two relayed intervals and one of the agent's); never less than
    /// <see cref="GatewayOptions.TunnelIdleTimeout"/>.
    /// </summary>
    public TimeSpan HandshakeTimeout(TimeSpan tunnelIdleTimeout) => Max(tunnelIdleTimeout, RelayedInterval * 2 + AgentInterval);

    /// <summary>The header's value towards the backend.</summary>
    public string BackendHeader => ((long)BackendInterval.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>The relayed keep-alive of a WebSocket opening, or null when the agent announced none or the gateway relays pings.</summary>
    public static RelayedKeepAlive? For(HttpRequest request, GatewayOptions options)
    {
        if (options.RelayedKeepAliveInterval <= TimeSpan.Zero || ChannelUpgrade.AnnouncedKeepAlive(request.Headers[ProtocolConstants.KeepAliveHeader]) is not { } interval)
        {
            return null;
        }

        var relayed = TimeSpan.FromSeconds(Math.Ceiling(Max(interval, options.RelayedKeepAliveInterval).TotalSeconds));
        return new RelayedKeepAlive(interval, Min(Longest, relayed));
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
