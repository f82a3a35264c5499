using System.Net.WebSockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.Channels.Framing;
using Tcm.Hosting.Diagnostics;
using Tcm.Protocol;
using Tcm.TaskServer.Agents;
using Tcm.TaskServer.Diagnostics;
using Tcm.TaskServer.Identity;

namespace Tcm.TaskServer.Channel;

/// <summary>What every <see cref="TsSession"/> needs, shared.</summary>
internal sealed class TsChannelServices(
    IOptions<TaskServerOptions> options, TaskDelivery delivery, TsAgentApi api, TaskServerIdentity identity, TimeProvider time, ILogger<TsSession> logger)
{
    public TaskServerOptions Options { get; } = options.Value;
    public TaskDelivery Delivery { get; } = delivery;
    public TsAgentApi Api { get; } = api;
    public string ServerName { get; } = identity.Name;
    public ILogger Logger { get; } = logger;
    public TimeProvider Time { get; } = time;

    /// <summary>Every open channel, for the one heartbeat (<see cref="TsChannelHousekeeping"/>).</summary>
    public ChannelSet<TsSession> Channels { get; } = new();

    /// <summary>How long a closing channel may take to answer our close before it is aborted.</summary>
    public TimeSpan CloseTimeout { get; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// <c>/tcm/agent/channel</c> on the Task Server: the Client Task Agent's persistent channel. Refusals before the upgrade are HTTP answers
/// with an <see cref="ErrorBody"/> and <c>X-Tcm-Refusal</c>: <c>bad-certificate</c> (401) and <c>task-server-full</c> (403).
/// </summary>
internal static partial class TsChannelEndpoint
{
    public static void MapTsChannel(this IEndpointRouteBuilder endpoints) =>
        // why: Map, not MapGet: HTTP/2 WebSockets arrive as extended CONNECT.
        endpoints.Map(TcmPaths.Channel, HandleAsync).ExcludeFromDescription();

    private static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var metrics = services.GetRequiredService<TsMetrics>();
        var logger = services.GetRequiredService<ILogger<TsSession>>();
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await TsResponse.Error(400, "websocket-required", "the channel is a WebSocket: HTTP/1.1 upgrade or HTTP/2 extended CONNECT, sub-protocol tcm.v1").WriteAsync(context);
            return;
        }

        var identity = services.GetRequiredService<AgentIdentityResolver>().Resolve(context);
        if (identity.AgentId is not { } agentId)
        {
            metrics.Refused(CloseReasons.BadCertificate);
            await TsResponse.Error(401, CloseReasons.BadCertificate, identity.Reason!).WriteAsync(context);
            return;
        }

        var agent = services.GetRequiredService<TaskDelivery>().GetOrRegister(agentId, out var refusal);
        if (agent is null)
        {
            Log.Refused(logger, agentId, CloseReasons.TaskServerFull);
            await refusal!.WriteAsync(context);
            return;
        }

        var channelServices = services.GetRequiredService<TsChannelServices>();
        var subProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(ProtocolConstants.SubProtocol) ? ProtocolConstants.SubProtocol : null;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = subProtocol,
            KeepAliveInterval = channelServices.Options.KeepAliveInterval,
            KeepAliveTimeout = channelServices.Options.KeepAliveTimeout,
        });
        var session = new TsSession(socket, agent, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), channelServices);
        channelServices.Channels.Add(session);
        var labels = ConnectionLabels.Channel(context.Request, AgentIdentityResolver.ViaGateway(context));
        metrics.Channels.ChannelOpened(labels);
        try
        {
            await session.RunAsync(context.RequestAborted);
        }
        finally
        {
            channelServices.Channels.Remove(session);
            metrics.Channels.ChannelClosed(labels);
            Log.Closed(logger, session.ConnectionId, agentId, socket.CloseStatus, socket.CloseStatusDescription);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2210, Level = LogLevel.Information, Message = "Refused the channel of agent {AgentId}: {Code}")]
        public static partial void Refused(ILogger logger, string agentId, string code);

        [LoggerMessage(EventId = 2211, Level = LogLevel.Debug, Message = "TS channel {ConnectionId} of agent {AgentId} closed ({Status} {Description})")]
        public static partial void Closed(ILogger logger, string connectionId, string agentId, WebSocketCloseStatus? status, string? description);
    }
}
