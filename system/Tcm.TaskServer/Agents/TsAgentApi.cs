using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tcm.Hosting.Channels;
using Tcm.Protocol;
using Tcm.TaskServer.Diagnostics;

namespace Tcm.TaskServer.Agents;

/// <summary>
/// The Client Task Agent's HTTP endpoints on the Task Server (the fallback), as plain handlers so the channel's <c>http.request</c> runs
/// the same code: <c>GET /tcm/agent/tasks?after=N</c>, <c>POST /tcm/agent/tasks/status</c>, <c>POST /tcm/agent/tasks/result</c>.
/// </summary>
internal sealed class TsAgentApi(TaskDelivery delivery)
{
    public async Task<TsResponse> HandleAsync(TsAgent agent, string method, string pathAndQuery, ReadOnlyMemory<byte> body, string via, CancellationToken cancellationToken)
    {
        var request = AgentRequestLine.Parse(method, pathAndQuery);
        var (path, isGet, isPost) = (request.Path, request.IsGet, request.IsPost);
        switch (path)
        {
            case TcmPaths.Tasks when isGet:
                if (!request.TryGetAfter(out var after))
                {
                    return TsResponse.Error(400, "bad-request", AgentRequestLine.BadAfter);
                }

                return TsResponse.Json(200, delivery.HandOut(agent, after), ProtocolJsonContext.Default.PendingPushes);
            case TcmPaths.TaskStatus when isPost:
                if (MessageCodec.Decode(body.Span, int.MaxValue) is { Message: TaskStatusMessage status })
                {
                    delivery.RecordStatus(agent, status, via);
                    return TsResponse.NoContent;
                }

                return TsResponse.Error(400, "bad-request", "body: expected a 'task.status' message (kind included)");
            case TcmPaths.TaskResult when isPost:
                var decoded = MessageCodec.Decode(body.Span, int.MaxValue);
                if (decoded.Message is not (TaskResultMessage or InventoryResultMessage))
                {
                    return TsResponse.Error(400, "bad-request", decoded.Detail ?? "body: expected a 'task.result' or 'inventory.result' message (kind included)");
                }

                try
                {
                    return TsResponse.Json(200, await delivery.StoreResultAsync(agent, decoded.Message, cancellationToken).ConfigureAwait(false), ProtocolJsonContext.Default.ResultReceipt);
                }
                catch (ArgumentException ex)
                {
                    return TsResponse.Error(400, "bad-request", ex.Message);
                }

            case TcmPaths.Tasks or TcmPaths.TaskStatus or TcmPaths.TaskResult:
                return TsResponse.Error(405, "method-not-allowed", $"{method} is not allowed on {path}");
            default:
                return TsResponse.Error(404, "not-found", $"no Task Server endpoint at '{path}' (policy, events and inventory go to the Notification Server)");
        }
    }
}

/// <summary>Maps the Task Server's agent HTTP endpoints.</summary>
internal static class TsAgentEndpoints
{
    /// <summary>The agent endpoints' services: who the agent is, the delivery and the handlers.</summary>
    public static IServiceCollection AddTsAgentEndpoints(this IServiceCollection services) => services
        .AddSingleton<AgentIdentityResolver>()
        .AddSingleton<TaskDelivery>()
        .AddSingleton<TsAgentApi>();

    public static void MapTsAgentEndpoints(this IEndpointRouteBuilder endpoints) => endpoints.MapAgentTaskEndpoints(HandleAsync);

    private static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var identity = services.GetRequiredService<AgentIdentityResolver>().Resolve(context);
        if (identity.AgentId is not { } agentId)
        {
            await TsResponse.Error(401, CloseReasons.BadCertificate, identity.Reason!).WriteAsync(context);
            return;
        }

        var agent = services.GetRequiredService<TaskDelivery>().GetOrRegister(agentId, out var refusal);
        if (agent is null)
        {
            await refusal!.WriteAsync(context);
            return;
        }

        services.GetRequiredService<TsMetrics>().Channels.HttpRequest(AgentIdentityResolver.ViaGateway(context));

        var max = services.GetRequiredService<IOptions<TaskServerOptions>>().Value.MaxMessageBytes;
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var read = await context.Request.Body.ReadAsync(buffer.GetMemory(4096), context.RequestAborted);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > max)
            {
                await TsResponse.Error(413, CloseReasons.TooLarge, $"body: more than the maximum of {max} bytes").WriteAsync(context);
                return;
            }
        }

        var request = context.Request;
        var response = await services.GetRequiredService<TsAgentApi>().HandleAsync(agent, request.Method, request.Path.Value + request.QueryString.Value, buffer.WrittenMemory, TaskDelivery.ViaHttp, context.RequestAborted);
        await response.WriteAsync(context);
    }
}
