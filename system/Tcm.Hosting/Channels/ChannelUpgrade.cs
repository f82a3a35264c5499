using System.Net.WebSockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tcm.Protocol;

namespace Tcm.Hosting.Channels;

/// <summary>
/// The HTTP side of an agent's persistent channel, the same on the Notification Server and the Task Server: the route, the refusal of
/// a request that is not a WebSocket, the upgrade with the keep-alive the agent announced (or the server's own pings for an agent
/// that announced none), and the connection id.
/// </summary>
public static class ChannelUpgrade
{
    /// <summary>The refusal code of a plain HTTP request to the channel.</summary>
    public const string WebSocketRequired = "websocket-required";

    /// <summary>The detail of <see cref="WebSocketRequired"/>.</summary>
    public const string WebSocketRequiredDetail = "the channel is a WebSocket: HTTP/1.1 upgrade or HTTP/2 extended CONNECT, sub-protocol tcm.v1";

    /// <summary>Maps <c>/tcm/agent/channel</c> to <paramref name="handler"/>, for every method and left out of the OpenAPI document.</summary>
    public static IEndpointConventionBuilder MapAgentChannel(this IEndpointRouteBuilder endpoints, RequestDelegate handler) =>
        // why: Map, not MapGet: HTTP/2 WebSockets arrive as extended CONNECT.
        endpoints.Map(TcmPaths.Channel, handler).ExcludeFromDescription();

    /// <summary>
    /// Accepts the WebSocket with the <c>tcm.v1</c> sub-protocol when the agent asked for it. An agent that announced its keep-alive
    /// (<see cref="ProtocolConstants.KeepAliveHeader"/>) is not pinged: its channel is to be closed after two of its intervals without
    /// a byte (<see cref="AcceptedChannel.Heard"/>). One that announced none is pinged as <paramref name="options"/> say.
    /// </summary>
    public static async Task<AcceptedChannel> AcceptAsync(HttpContext context, TcmChannelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var subProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(ProtocolConstants.SubProtocol) ? ProtocolConstants.SubProtocol : null;
        var announced = AnnouncedKeepAlive(context.Request.Headers[ProtocolConstants.KeepAliveHeader]);
        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = subProtocol,
            KeepAliveInterval = announced is null ? options.KeepAliveInterval : TimeSpan.Zero,
            KeepAliveTimeout = options.KeepAliveTimeout,
        }).ConfigureAwait(false);
        return announced is { } interval && context.Features.Get<ChannelHearing>()?.Stream is { } heard
            ? new AcceptedChannel(socket, heard, interval * 2)
            : new AcceptedChannel(socket, null, TimeSpan.Zero);
    }

    /// <summary>The keep-alive interval an agent announced: whole seconds from 1 to 3600; anything else is no announcement.</summary>
    public static TimeSpan? AnnouncedKeepAlive(string? header) =>
        int.TryParse(header, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= 3600
            ? TimeSpan.FromSeconds(seconds)
            : null;

    /// <summary>A new connection id: 16 hex digits from <see cref="RandomNumberGenerator"/>.</summary>
    public static string NewConnectionId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}

/// <summary>An accepted channel: its WebSocket and, when the agent keeps it alive itself, what tells when it was last heard.</summary>
/// <param name="Socket">The WebSocket.</param>
/// <param name="Heard">The stream under it; null when the server pings the channel itself (the agent announced no keep-alive).</param>
/// <param name="SilenceLimit">How long the agent may stay silent: two of its announced intervals; zero without <paramref name="Heard"/>.</param>
public readonly record struct AcceptedChannel(WebSocket Socket, HeardStream? Heard, TimeSpan SilenceLimit);
