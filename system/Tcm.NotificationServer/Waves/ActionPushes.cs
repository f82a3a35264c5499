using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Waves;

/// <summary>
/// The push each kind of admin action sends its targets, built from the admin's request: at once for an action's first (or only)
/// wave, and again from the stored request for a later wave, also after a restart.
/// </summary>
internal sealed class ActionPushes(PolicyService policy)
{
    /// <summary>A task pushed by the Notification Server.</summary>
    public const string Task = "task";

    /// <summary>The current policy pushed now.</summary>
    public const string Policy = "policy";

    /// <summary>An on-demand inventory.</summary>
    public const string Inventory = "inventory";

    /// <summary>The task itself, one message for every agent (so a fan-out is encoded once).</summary>
    public static Func<AgentRecord, PushMessage> ForTask(PushTaskRequest task, string actionId, DateTimeOffset createdAt)
    {
        var push = task.ToPush(actionId, createdAt);
        return _ => push;
    }

    /// <summary>Each agent's own current policy, computed when its wave goes.</summary>
    public Func<AgentRecord, PushMessage> ForPolicy() => agent => new PolicyPushMessage { Seq = 0, Policy = policy.GetPolicy(agent) };

    /// <summary>The inventory request, one message for every agent.</summary>
    public static Func<AgentRecord, PushMessage> ForInventory(InventoryNowRequest inventory, string actionId, DateTimeOffset createdAt)
    {
        var push = new InventoryRequestMessage { Seq = 0, RequestId = actionId, Classes = inventory.Classes, CreatedAt = createdAt };
        return _ => push;
    }

    /// <summary>The push of a stored action of <paramref name="kind"/> from its stored <paramref name="requestJson"/>.</summary>
    public Func<AgentRecord, PushMessage> FromStored(string kind, string actionId, string? requestJson, DateTimeOffset createdAt) => kind switch
    {
        Task => ForTask(TcmStore.Deserialize(Required(requestJson, kind), ProtocolJsonContext.Default.PushTaskRequest), actionId, createdAt),
        Policy => ForPolicy(),
        Inventory => ForInventory(TcmStore.Deserialize(Required(requestJson, kind), ProtocolJsonContext.Default.InventoryNowRequest), actionId, createdAt),
        _ => throw new InvalidDataException($"action '{actionId}' is of kind '{kind}', which does not go out in waves"),
    };

    private static string Required(string? requestJson, string kind) =>
        requestJson ?? throw new InvalidDataException($"a stored '{kind}' action has no request to build its pushes from");
}
