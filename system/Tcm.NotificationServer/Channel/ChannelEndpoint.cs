using System.Net.WebSockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.NotificationServer.AgentEndpoints;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Policy;
using Tcm.Hosting.Diagnostics;
using Tcm.Protocol;

namespace Tcm.NotificationServer.Channel;

/// <summary>
/// <c>/tcm/agent/channel</c>: checks the agent and its policy before the upgrade (refusals are HTTP answers with an
/// <see cref="ErrorBody"/>), then accepts the WebSocket and runs the session until it closes.
/// </summary>
internal static partial class ChannelEndpoint
{
    public static void MapChannel(this IEndpointRouteBuilder endpoints) =>
        // why: Map, not MapGet: HTTP/2 WebSockets arrive as extended CONNECT.
        endpoints.Map(TcmPaths.Channel, HandleAsync).ExcludeFromDescription();

    private static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices.GetRequiredService<ChannelServices>();
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Error(StatusCodes.Status400BadRequest, "websocket-required",
                "the channel is a WebSocket: HTTP/1.1 upgrade or HTTP/2 extended CONNECT, sub-protocol tcm.v1")).ConfigureAwait(false);
            return;
        }

        var authentication = context.RequestServices.GetRequiredService<AgentAuthenticator>().Authenticate(context);
        if (authentication.Agent is not { } agent)
        {
            await RefuseAsync(context, services, authentication.Refusal!).ConfigureAwait(false);
            return;
        }

        var policy = services.Policy.GetPolicy(agent);
        if (PolicyService.ChannelRefusal(policy) is { } code)
        {
            var detail = code == CloseReasons.TcmDisabled
                ? "the server setting 'TCM communication' is off; use HTTP polling"
                : "no communication profile enables a persistent connection for this agent; use HTTP polling";
            await RefuseAsync(context, services, AgentApiResponse.Error(StatusCodes.Status403Forbidden, code, detail)).ConfigureAwait(false);
            return;
        }

        var subProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(ProtocolConstants.SubProtocol) ? ProtocolConstants.SubProtocol : null;
        var options = services.Options;
        using var webSocket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = subProtocol,
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout,
        }).ConfigureAwait(false);

        var session = new ChannelSession(webSocket, agent, NewConnectionId(), services) { ViaGateway = authentication.ViaGateway };
        services.Registry.Add(session);
        var labels = ConnectionLabels.Channel(context.Request, authentication.ViaGateway is not null);
        services.Metrics.Channels.ChannelOpened(labels);
        Log.Opened(services.Logger, session.ConnectionId, agent.Id, context.Request.Protocol);
        try
        {
            await session.RunAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            services.Registry.Remove(session);
            services.Metrics.Channels.ChannelClosed(labels);
            Log.Closed(services.Logger, session.ConnectionId, agent.Id, webSocket.CloseStatus, webSocket.CloseStatusDescription);
        }
    }

    private static Task RefuseAsync(HttpContext context, ChannelServices services, AgentApiResponse refusal)
    {
        var code = refusal.Headers?.GetValueOrDefault(AgentApiResponse.RefusalHeader) ?? "refused";
        services.Metrics.ConnectionRefused(code);
        Log.Refused(services.Logger, code, context.Connection.RemoteIpAddress?.ToString());
        return AgentHttpEndpoints.WriteAsync(context, refusal);
    }

    /// <summary>16 hex digits from <see cref="RandomNumberGenerator"/>.</summary>
    private static string NewConnectionId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private static partial class Log
    {
        [LoggerMessage(EventId = 310, Level = LogLevel.Debug, Message = "Channel {ConnectionId} opened by agent {AgentId} over {Protocol}")]
        public static partial void Opened(ILogger logger, string connectionId, string agentId, string protocol);

        [LoggerMessage(EventId = 311, Level = LogLevel.Debug, Message = "Channel {ConnectionId} of agent {AgentId} closed ({Status} {Description})")]
        public static partial void Closed(ILogger logger, string connectionId, string agentId, WebSocketCloseStatus? status, string? description);

        [LoggerMessage(EventId = 312, Level = LogLevel.Information, Message = "Refused a channel from {RemoteAddress}: {Code}")]
        public static partial void Refused(ILogger logger, string code, string? remoteAddress);
    }
}
