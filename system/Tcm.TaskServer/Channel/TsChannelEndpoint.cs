using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.Channels.Framing;
using Tcm.Hosting.Diagnostics;
using Tcm.Hosting.Channels;
using Tcm.Protocol;
using Tcm.TaskServer.Agents;
using Tcm.TaskServer.Diagnostics;

namespace Tcm.TaskServer.Channel;

/// <summary>
/// <c>/tcm/agent/channel</c> on the Task Server: the Client Task Agent's persistent channel. Refusals before the upgrade are HTTP answers
/// with an <see cref="ErrorBody"/> and <c>X-Tcm-Refusal</c>: <c>bad-certificate</c> (401) and <c>task-server-full</c> (403).
/// </summary>
internal static partial class TsChannelEndpoint
{
    /// <summary>The channel's services: what sessions share and the one heartbeat (started after registration, see <see cref="TaskServerExtensions"/>).</summary>
    public static IServiceCollection AddTsChannel(this IServiceCollection services) => services
        .AddSingleton<TsChannelServices>()
        .AddSingleton<TsChannelHousekeeping>();

    public static void MapTsChannel(this IEndpointRouteBuilder endpoints) => endpoints.MapAgentChannel(HandleAsync);

    private static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var metrics = services.GetRequiredService<TsMetrics>();
        var logger = services.GetRequiredService<ILogger<TsSession>>();
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await TsResponse.Error(400, ChannelUpgrade.WebSocketRequired, ChannelUpgrade.WebSocketRequiredDetail).WriteAsync(context);
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
        var accepted = await ChannelUpgrade.AcceptAsync(context, channelServices.Options);
        using var socket = accepted.Socket;
        var session = new TsSession(socket, agent, ChannelUpgrade.NewConnectionId(), channelServices) { Heard = accepted.Heard, SilenceLimit = accepted.SilenceLimit };
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
