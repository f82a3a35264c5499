using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tcm.Channels.Delivery;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.Store;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// The admin API for actions: a task, a policy push or an inventory request to the targeted agents now, and an action's progress
/// per target, read from the <see cref="ActionLedger"/>.
/// </summary>
internal static class ActionAdminEndpoints
{
    public static void MapActions(this RouteGroupBuilder admin)
    {
        admin.MapPost("/actions/task", async (HttpRequest request, AgentDirectory directory, DeliveryService delivery, TimeProvider time) =>
        {
            var (body, error) = await ReadPushTaskAsync(request);
            if (error is not null)
            {
                return error;
            }

            var task = body!;

            var actionId = DeliveryService.NewActionId();
            var now = time.GetUtcNow();
            var created = await CreateActionAsync(directory, delivery, actionId, "task", task.Targets, TcmStore.Serialize(task, ProtocolJsonContext.Default.PushTaskRequest),
                (_, seq) => new TaskPushMessage
                {
                    Seq = seq,
                    TaskId = actionId,
                    Command = task.Command,
                    Name = task.Name,
                    Parameters = task.Parameters,
                    TimeoutSeconds = task.TimeoutSeconds,
                    CreatedAt = now,
                },
                request.HttpContext.RequestAborted);
            return Created($"{TcmPaths.Admin}/actions/{actionId}", created, ProtocolJsonContext.Default.ActionCreated);
        })
            .WithName("PushTask").WithSummary("Pushes a task to the targeted agents now (channel, else handed out at their next poll).")
            .Accepts<PushTaskRequest>(Json).Produces<ActionCreated>(StatusCodes.Status201Created).Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapPost("/actions/policy", async (HttpRequest request, AgentDirectory directory, DeliveryService delivery, PolicyService policy) =>
        {
            var (push, error) = await ReadAsync(request, ProtocolJsonContext.Default.PushPolicyRequest);
            if (error is not null)
            {
                return error;
            }

            if (AdminValidation.Validate(push!.Targets) is { } problem)
            {
                return BadRequest(problem);
            }

            var actionId = DeliveryService.NewActionId();
            var created = await CreateActionAsync(directory, delivery, actionId, "policy", push.Targets, TcmStore.Serialize(push, ProtocolJsonContext.Default.PushPolicyRequest),
                (agent, seq) => new PolicyPushMessage { Seq = seq, Policy = policy.GetPolicy(agent) }, request.HttpContext.RequestAborted);
            return Created($"{TcmPaths.Admin}/actions/{actionId}", created, ProtocolJsonContext.Default.ActionCreated);
        })
            .WithName("PushPolicy").WithSummary("Pushes the current policy to the targeted agents now.")
            .Accepts<PushPolicyRequest>(Json).Produces<ActionCreated>(StatusCodes.Status201Created).Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapPost("/actions/inventory", async (HttpRequest request, AgentDirectory directory, DeliveryService delivery, TimeProvider time) =>
        {
            var (inventory, error) = await ReadAsync(request, ProtocolJsonContext.Default.InventoryNowRequest);
            if (error is not null)
            {
                return error;
            }

            if (AdminValidation.Validate(inventory!.Targets) is { } problem)
            {
                return BadRequest(problem);
            }

            var actionId = DeliveryService.NewActionId();
            var now = time.GetUtcNow();
            var created = await CreateActionAsync(directory, delivery, actionId, "inventory", inventory.Targets, TcmStore.Serialize(inventory, ProtocolJsonContext.Default.InventoryNowRequest),
                (_, seq) => new InventoryRequestMessage { Seq = seq, RequestId = actionId, Classes = inventory.Classes, CreatedAt = now },
                request.HttpContext.RequestAborted);
            return Created($"{TcmPaths.Admin}/actions/{actionId}", created, ProtocolJsonContext.Default.ActionCreated);
        })
            .WithName("InventoryNow").WithSummary("Asks the targeted agents for their inventory now (on-demand inventory).")
            .Accepts<InventoryNowRequest>(Json).Produces<ActionCreated>(StatusCodes.Status201Created).Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapGet("/actions/{id}", (string id, ActionLedger ledger, AgentDirectory directory, PushWindow window) =>
            ledger.Find(id, agentId => directory.TryGet(agentId, out var agent) ? agent.ComputerName : "") is { } status
                ? Ok(status with { Waiting = window.WaitingFor(id) }, ProtocolJsonContext.Default.ActionStatus)
                : NotFound($"there is no action '{id}'"))
            .WithName("GetAction").WithSummary("An action with each target's progress: pending, delivered, running, succeeded, failed, timed-out.")
            .Produces<ActionStatus>().Produces<ErrorBody>(StatusCodes.Status404NotFound);
    }

    private static async Task<ActionCreated> CreateActionAsync(
        AgentDirectory directory,
        DeliveryService delivery,
        string actionId,
        string kind,
        Targets targets,
        string requestJson,
        Func<AgentRecord, long, PushMessage> build,
        CancellationToken ct)
    {
        var agents = directory.All.Where(a => TargetMatcher.Matches(targets, a)).ToList();
        var sent = await delivery.PushAsync(agents, build, new NewAction(actionId, kind, requestJson), ct);
        return new ActionCreated(actionId, kind, agents.Count, sent);
    }
}
