using System.Net.WebSockets;
using System.Text.Json;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Audit;
using Tcm.NotificationServer.Channel;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.Admin;

/// <summary>The admin API for agents: the list, one agent, its live Network Status, terminating its channel, the fleet counts.</summary>
internal static class AgentAdminEndpoints
{
    private static readonly TimeSpan LiveStatusTimeout = TimeSpan.FromSeconds(5);

    public static void MapAgents(this RouteGroupBuilder admin)
    {
        admin.MapGet("/agents", (HttpRequest request, AgentViews views) =>
        {
            var query = request.Query;
            if (!TryInt(query["skip"], 0, 0, int.MaxValue, out var skip))
            {
                return BadRequest("skip: must be an integer of 0 or more");
            }

            if (!TryInt(query["take"], 100, 1, 1000, out var take))
            {
                return BadRequest("take: must be an integer between 1 and 1000");
            }

            bool? connected = null;
            if (query["connected"] is { Count: > 0 } connectedText)
            {
                if (!bool.TryParse(connectedText.ToString(), out var value))
                {
                    return BadRequest("connected: must be true or false");
                }

                connected = value;
            }

            return Ok(views.Page(skip, take, query["search"].ToString(), connected), ProtocolJsonContext.Default.AgentPage);
        })
            .WithName("ListAgents").WithSummary("A page of agents (skip, take up to 1000, search in id/name/domain, connected).")
            .Produces<AgentPage>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapGet("/agents/{id}", (string id, AgentDirectory directory, AgentViews views) =>
            directory.TryGet(id, out var agent) ? Ok(views.ToInfo(agent), ProtocolJsonContext.Default.AgentInfo) : NotFound($"there is no agent '{id}'"))
            .WithName("GetAgent").WithSummary("One agent.").Produces<AgentInfo>().Produces<ErrorBody>(StatusCodes.Status404NotFound);

        admin.MapGet("/agents/{id}/network-status", async (string id, HttpContext context, AgentDirectory directory, ConnectionRegistry registry) =>
        {
            if (!directory.TryGet(id, out var agent))
            {
                return NotFound($"there is no agent '{id}'");
            }

            if (registry.TryGetActive(id, out var session))
            {
                var response = await session.RequestAsync("GET", "/tcm/agent/status", LiveStatusTimeout, context.RequestAborted);
                if (response is { Status: 200, Body: { } body } && TryReadStatus(body) is { } live)
                {
                    directory.ReportNetworkStatus(agent, live);
                    return Ok(live, ProtocolJsonContext.Default.NetworkStatus);
                }
            }

            return agent.NetworkStatus is { } status
                ? Ok(status, ProtocolJsonContext.Default.NetworkStatus)
                : NotFound($"agent '{id}' has not reported a Network Status yet and has no channel to ask");
        })
            .WithName("GetAgentNetworkStatus").WithSummary("The agent's Network Status: asked live over the channel, else the last one it posted.")
            .Produces<NetworkStatus>().Produces<ErrorBody>(StatusCodes.Status404NotFound);

        admin.MapPost("/agents/{id}/terminate", (string id, HttpRequest request, AgentDirectory directory, ConnectionRegistry registry) =>
        {
            if (!directory.TryGet(id, out _))
            {
                return NotFound($"there is no agent '{id}'");
            }

            if (!TryInt(request.Query["reconnectAfterSeconds"], 60, 0, 7 * 24 * 3600, out var reconnectAfter))
            {
                return BadRequest("reconnectAfterSeconds: must be an integer between 0 and 604800");
            }

            if (!registry.TryGetActive(id, out var session))
            {
                return Error(StatusCodes.Status409Conflict, "not-connected", $"agent '{id}' has no persistent connection to terminate");
            }

            session.Send(new TerminateMessage { Reason = CloseReasons.Terminated, ReconnectAfterSeconds = reconnectAfter });
            session.BeginClose(WebSocketCloseStatus.NormalClosure, CloseReasons.Terminated, "an administrator terminated the persistent connection");
            var note = request.HttpContext.Audit();
            note.Before = "{\"connected\":true}";
            note.After = $"{{\"connected\":false,\"reconnectAfterSeconds\":{reconnectAfter}}}";
            return Results.NoContent();
        })
            .WithAdminAccess(AdminRole.Operator, AuditKinds.Terminate)
            .WithName("TerminateAgentConnection").WithSummary("Sends 'terminate' to a connected agent and closes its channel.")
            .Produces(StatusCodes.Status204NoContent).Produces<ErrorBody>(StatusCodes.Status404NotFound).Produces<ErrorBody>(StatusCodes.Status409Conflict);

        admin.MapGet("/fleet", (AgentViews views) => Ok(views.Fleet(), ProtocolJsonContext.Default.FleetSummary))
            .WithName("GetFleet").WithSummary("Counts of the fleet by connection state.").Produces<FleetSummary>();
    }

    private static NetworkStatus? TryReadStatus(JsonElement body)
    {
        try
        {
            return body.Deserialize(ProtocolJsonContext.Default.NetworkStatus);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
