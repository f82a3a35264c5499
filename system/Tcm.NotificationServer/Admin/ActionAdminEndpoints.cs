using Tcm.Channels.Delivery;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Audit;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.Store;
using Tcm.NotificationServer.Waves;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// The admin API for actions: a task, a policy push or an inventory request to the targeted agents now, or in waves with a brake
/// (<see cref="WaveScheduler"/>), and an action's progress per target, read from the <see cref="ActionLedger"/>.
/// </summary>
internal static class ActionAdminEndpoints
{
    public static void MapActions(this RouteGroupBuilder admin)
    {
        admin.MapAction("/actions/task", ProtocolJsonContext.Default.PushTaskRequest, static task => AdminValidation.Validate(task) ?? AdminValidation.Validate(task.Waves), static (services, task, actionId, ct) =>
            CreateActionAsync(services, new NewAction(actionId, ActionPushes.Task, TcmStore.Serialize(task, ProtocolJsonContext.Default.PushTaskRequest), task.NotAfter), task.Targets, task.Waves,
                ActionPushes.ForTask(task, actionId, services.GetRequiredService<TimeProvider>().GetUtcNow()), ct))
            .WithName("PushTask").WithSummary("Pushes a task to the targeted agents now (channel, else handed out at their next poll), or in waves with a brake.");

        admin.MapAction("/actions/policy", ProtocolJsonContext.Default.PushPolicyRequest, static push => AdminValidation.Validate(push.Targets) ?? AdminValidation.Validate(push.Waves), static (services, push, actionId, ct) =>
            CreateActionAsync(services, new NewAction(actionId, ActionPushes.Policy, TcmStore.Serialize(push, ProtocolJsonContext.Default.PushPolicyRequest)), push.Targets, push.Waves,
                services.GetRequiredService<ActionPushes>().ForPolicy(), ct))
            .WithName("PushPolicy").WithSummary("Pushes the current policy to the targeted agents now, or in waves with a brake.");

        admin.MapAction("/actions/inventory", ProtocolJsonContext.Default.InventoryNowRequest, static inventory => AdminValidation.Validate(inventory.Targets) ?? AdminValidation.Validate(inventory.Waves), static (services, inventory, actionId, ct) =>
            CreateActionAsync(services, new NewAction(actionId, ActionPushes.Inventory, TcmStore.Serialize(inventory, ProtocolJsonContext.Default.InventoryNowRequest)), inventory.Targets, inventory.Waves,
                ActionPushes.ForInventory(inventory, actionId, services.GetRequiredService<TimeProvider>().GetUtcNow()), ct))
            .WithName("InventoryNow").WithSummary("Asks the targeted agents for their inventory now (on-demand inventory), or in waves with a brake.");

        admin.MapGet("/actions/{id}", (string id, ActionLedger ledger, AgentDirectory directory, PushWindow window) =>
            ledger.Find(id, agentId => directory.TryGet(agentId, out var agent) ? agent.ComputerName : "") is { } status
                ? Ok(status with { Waiting = window.WaitingFor(id) }, ProtocolJsonContext.Default.ActionStatus)
                : NotFound($"there is no action '{id}'"))
            .WithName("GetAction").WithSummary("An action with each target's progress (pending, delivered, running, succeeded, failed, timed-out, not-sent) and its waves.")
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
        NewAction action,
        Targets targets,
        WavePlan? waves,
        Func<AgentRecord, PushMessage> build,
        CancellationToken ct,
        DateTimeOffset? notAfter = null)
    {
        var agents = services.GetRequiredService<AgentDirectory>().All.Where(a => TargetMatcher.Matches(targets, a)).ToList();
        var expiry = services.GetRequiredService<ActionExpiry>();
        if (waves is not null)
        {
            var waved = await services.GetRequiredService<WaveScheduler>().StartAsync(action, agents, waves, build, ct);
            expiry.Schedule(action.NotAfter);
            return waved;
        }

        var sent = await services.GetRequiredService<DeliveryService>().PushAsync(agents, build, action, ct);
        expiry.Schedule(action.NotAfter);
        return new ActionCreated(action.Id, action.Kind, agents.Count, sent);
    }
}
