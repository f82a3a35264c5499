using Tcm.Channels.Delivery;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Audit;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.Store;
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
        admin.MapAction("/actions/task", ProtocolJsonContext.Default.PushTaskRequest, AdminValidation.Validate, static (services, task, actionId, ct) =>
        {
            var push = new TaskPushMessage
            {
                Seq = 0,
                TaskId = actionId,
                Command = task.Command,
                Name = task.Name,
                Parameters = task.Parameters,
                TimeoutSeconds = task.TimeoutSeconds,
                CreatedAt = services.GetRequiredService<TimeProvider>().GetUtcNow(),
                NotAfter = task.NotAfter,
                Urgent = task.Urgent,
            };
            return CreateActionAsync(services, actionId, "task", task.Targets, TcmStore.Serialize(task, ProtocolJsonContext.Default.PushTaskRequest), _ => push, ct, task.NotAfter);
        })
            .WithName("PushTask").WithSummary("Pushes a task to the targeted agents now (channel, else handed out at their next poll).");

        admin.MapAction("/actions/policy", ProtocolJsonContext.Default.PushPolicyRequest, static push => AdminValidation.Validate(push.Targets), static (services, push, actionId, ct) =>
        {
            var policy = services.GetRequiredService<PolicyService>();
            return CreateActionAsync(services, actionId, "policy", push.Targets, TcmStore.Serialize(push, ProtocolJsonContext.Default.PushPolicyRequest),
                agent => new PolicyPushMessage { Seq = 0, Policy = policy.GetPolicy(agent) }, ct);
        })
            .WithName("PushPolicy").WithSummary("Pushes the current policy to the targeted agents now.");

        admin.MapAction("/actions/inventory", ProtocolJsonContext.Default.InventoryNowRequest, static inventory => AdminValidation.Validate(inventory.Targets), static (services, inventory, actionId, ct) =>
        {
            var push = new InventoryRequestMessage { Seq = 0, RequestId = actionId, Classes = inventory.Classes, CreatedAt = services.GetRequiredService<TimeProvider>().GetUtcNow() };
            return CreateActionAsync(services, actionId, "inventory", inventory.Targets, TcmStore.Serialize(inventory, ProtocolJsonContext.Default.InventoryNowRequest), _ => push, ct);
        })
            .WithName("InventoryNow").WithSummary("Asks the targeted agents for their inventory now (on-demand inventory).");

        admin.MapGet("/actions/{id}", (string id, ActionLedger ledger, AgentDirectory directory, PushWindow window) =>
            ledger.Find(id, agentId => directory.TryGet(agentId, out var agent) ? agent.ComputerName : "") is { } status
                ? Ok(status with { Waiting = window.WaitingFor(id) }, ProtocolJsonContext.Default.ActionStatus)
                : NotFound($"there is no action '{id}'"))
            .WithName("GetAction").WithSummary("An action with each target's progress: pending, delivered, running, succeeded, failed, timed-out.")
            .Produces<ActionStatus>().Produces<ErrorBody>(StatusCodes.Status404NotFound);

        admin.MapPost("/actions/{id}/cancel", async (string id, ActionCancellation cancellation, CancellationToken ct) =>
            await cancellation.CancelAsync(id, ct) is { } cancelled
                ? Ok(cancelled, ProtocolJsonContext.Default.ActionCancelled)
                : NotFound($"there is no action '{id}'"))
            .WithName("CancelAction").WithSummary("Cancels an action: targets not started become cancelled, agents running it are told to stop.")
            .WithAdminAccess(AdminRole.Operator, AuditKinds.Action)
            .Produces<ActionCancelled>().Produces<ErrorBody>(StatusCodes.Status404NotFound);
    }

    private static async Task<ActionCreated> CreateActionAsync(
        IServiceProvider services,
        string actionId,
        string kind,
        Targets targets,
        string requestJson,
        Func<AgentRecord, PushMessage> build,
        CancellationToken ct,
        DateTimeOffset? notAfter = null)
    {
        var agents = services.GetRequiredService<AgentDirectory>().All.Where(a => TargetMatcher.Matches(targets, a)).ToList();
        var sent = await services.GetRequiredService<DeliveryService>().PushAsync(agents, build, new NewAction(actionId, kind, requestJson, notAfter), ct);
        services.GetRequiredService<ActionExpiry>().Schedule(notAfter);
        return new ActionCreated(actionId, kind, agents.Count, sent);
    }
}
