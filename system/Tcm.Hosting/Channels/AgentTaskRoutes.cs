using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tcm.Protocol;

namespace Tcm.Hosting.Channels;

/// <summary>
/// The task endpoints an agent calls over plain HTTP when it has no channel, the same routes on the Notification Server (the core
/// agent) and the Task Server (the Client Task Agent): fetch tasks, report a status, post a result.
/// </summary>
public static class AgentTaskRoutes
{
    /// <summary>Maps <c>GET</c> tasks, <c>POST</c> task status and <c>POST</c> task result to <paramref name="handler"/>, left out of the OpenAPI document.</summary>
    public static void MapAgentTaskEndpoints(this IEndpointRouteBuilder endpoints, RequestDelegate handler)
    {
        endpoints.MapGet(TcmPaths.Tasks, handler).ExcludeFromDescription();
        endpoints.MapPost(TcmPaths.TaskStatus, handler).ExcludeFromDescription();
        endpoints.MapPost(TcmPaths.TaskResult, handler).ExcludeFromDescription();
    }
}
