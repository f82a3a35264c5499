using System.Net.WebSockets;
using Tcm.Hosting.Channels;
using Tcm.Hosting.Listeners;
using Tcm.NotificationServer.AgentEndpoints;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Policy;
using Tcm.Hosting.Diagnostics;

namespace Tcm.NotificationServer.Channel;

/// <summary>
/// <c>/tcm/agent/channel</c>: checks the agent and its policy before the upgrade (refusals are HTTP answers with an
/// <see cref="ErrorBody"/>), then accepts the WebSocket and runs the session until it closes. The request first takes a place in
/// the server's upgrade admission (held until the welcome); without one it is answered 503 <c>server-busy</c> with <c>Retry-After</c>.
/// </summary>
internal static partial class ChannelEndpoint
{
    /// <summary>The channel's services: the registry of open channels, what sessions share, policy pushes, and the one heartbeat.</summary>
    public static IServiceCollection AddChannel(this IServiceCollection services) => services
        .AddSingleton<ConnectionRegistry>()
        .AddSingleton<ChannelServices>()
        .AddSingleton<PolicyDistributor>()
        .AddHostedService<ChannelHousekeeping>();

    public static void MapChannel(this IEndpointRouteBuilder endpoints) => endpoints.MapAgentChannel(HandleAsync);

    private static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices.GetRequiredService<ChannelServices>();
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Error(
                StatusCodes.Status400BadRequest, ChannelUpgrade.WebSocketRequired, ChannelUpgrade.WebSocketRequiredDetail)).ConfigureAwait(false);
            return;
        }

        var (place, retryAfter) = await ChannelAdmission.EnterAsync(context, context.RequestServices.GetRequiredService<ServerAdmission>().Upgrades).ConfigureAwait(false);
        if (place is null)
        {
            await RefuseAsync(context, services, Busy(retryAfter)).ConfigureAwait(false);
            return;
        }

        using var held = place;
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

        var accepted = await ChannelUpgrade.AcceptAsync(context, services.Options).ConfigureAwait(false);
        using var webSocket = accepted.Socket;
        var session = new ChannelSession(webSocket, agent, ChannelUpgrade.NewConnectionId(), services)
        {
            ViaGateway = authentication.ViaGateway, Welcomed = place.Welcomed, Heard = accepted.Heard, SilenceLimit = accepted.SilenceLimit,
        };
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

    private static AgentApiResponse Busy(TimeSpan retryAfter)
    {
        var refusal = AgentApiResponse.Error(StatusCodes.Status503ServiceUnavailable, CloseReasons.ServerBusy, ChannelAdmission.BusyDetail(retryAfter));
        return refusal with
        {
            Headers = new Dictionary<string, string>(refusal.Headers!) { [ChannelAdmission.RetryAfterHeader] = ChannelAdmission.RetryAfterValue(retryAfter) },
        };
    }

    private static Task RefuseAsync(HttpContext context, ChannelServices services, AgentApiResponse refusal)
    {
        var code = refusal.Headers?.GetValueOrDefault(AgentApiResponse.RefusalHeader) ?? "refused";
        services.Metrics.ConnectionRefused(code);
        Log.Refused(services.Logger, code, context.Connection.RemoteIpAddress?.ToString());
        return AgentHttpEndpoints.WriteAsync(context, refusal);
    }

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
