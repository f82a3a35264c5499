using System.Net.Http.Headers;
using System.Net.WebSockets;
using Tcm.Protocol;

namespace Tcm.Channels.Framing;

/// <summary>
/// A channel's WebSocket keep-alive: a ping every <see cref="Interval"/> (zero: none), and the connection is aborted when the pong
/// does not come within <see cref="Timeout"/>. The agent takes it from its policy's <see cref="AgentSettings.KeepAliveSeconds"/>
/// and announces the interval in its upgrade request (<see cref="ProtocolConstants.KeepAliveHeader"/>): only the agent pings, the
/// server answers and closes a channel silent for two intervals. The servers' own pings (their options, default
/// <see cref="Default"/>) are left for agents that announce nothing.
/// </summary>
/// <param name="Interval">How often a ping is sent; zero sends none.</param>
/// <param name="Timeout">How long a pong may take before the connection counts as dead.</param>
public readonly record struct ChannelKeepAlive(TimeSpan Interval, TimeSpan Timeout)
{
    /// <summary>A ping every 60 seconds, 20 seconds for its pong.</summary>
    public static ChannelKeepAlive Default { get; } = new(ProtocolConstants.DefaultKeepAliveInterval, ProtocolConstants.DefaultKeepAliveTimeout);

    /// <summary>The policy's interval (<see cref="AgentSettings.KeepAliveSeconds"/>) when it sets a positive one, else the default.</summary>
    public static ChannelKeepAlive FromPolicy(AgentSettings? settings) =>
        settings?.KeepAliveSeconds is > 0 and var seconds ? Default with { Interval = TimeSpan.FromSeconds(seconds) } : Default;

    /// <summary>Sets the pings of a client WebSocket before it connects, and announces their interval to the server.</summary>
    public void ApplyTo(ClientWebSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.KeepAliveInterval = Interval;
        options.KeepAliveTimeout = Timeout;
        AnnounceTo(options);
    }

    /// <summary>
    /// Announces the interval to the server without letting the client WebSocket ping by itself: for a client that sends its pings
    /// itself (the agent pings all its channels on one tick).
    /// </summary>
    public void AnnounceTo(ClientWebSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Announced is { } seconds)
        {
            options.SetRequestHeader(ProtocolConstants.KeepAliveHeader, seconds);
        }
    }

    /// <summary>
    /// Announces the interval on the upgrade request itself, for a client that sends it through its own handler: the client WebSocket's
    /// options then hold no header collection for the life of the channel (a simulator holds thousands of agents).
    /// </summary>
    public void AnnounceTo(HttpRequestHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        // Once: a request sent again (a retried upgrade) keeps the one value.
        if (Announced is { } seconds && !headers.Contains(ProtocolConstants.KeepAliveHeader))
        {
            headers.TryAddWithoutValidation(ProtocolConstants.KeepAliveHeader, seconds);
        }
    }

    /// <summary>The announced interval in whole seconds, or null when it is under a second (nothing is announced).</summary>
    private string? Announced =>
        Interval >= TimeSpan.FromSeconds(1) ? ((long)Math.Ceiling(Interval.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
}
