using System.Net.WebSockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tcm.Protocol;

namespace Tcm.Hosting.Channels;

/// <summary>
/// The HTTP side of an agent's persistent channel, the same on the Notification Server and the Task Server: the route, the refusal of
/// a request that is not a WebSocket, the upgrade with the server's keep-alive, and the connection id.
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

    /// <summary>Accepts the WebSocket with the <c>tcm.v1</c> sub-protocol when the agent asked for it, pinging as <paramref name="options"/> say.</summary>
    public static Task<WebSocket> AcceptAsync(HttpContext context, TcmChannelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var subProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(ProtocolConstants.SubProtocol) ? ProtocolConstants.SubProtocol : null;
        return context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = subProtocol,
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout,
        });
    }

    /// <summary>A new connection id: 16 hex digits from <see cref="RandomNumberGenerator"/>.</summary>
    public static string NewConnectionId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
