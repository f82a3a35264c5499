using Tcm.Protocol;

namespace Tcm.Channels.Delivery;

/// <summary>What a result is for, read from the result itself and checked against its idempotency key.</summary>
/// <param name="Key">The idempotency key: always <c>&lt;agentId&gt;:&lt;refId&gt;</c>.</param>
/// <param name="Kind">The message kind (<c>task.result</c> or <c>inventory.result</c>).</param>
/// <param name="RefId">The task id or inventory request id the result answers.</param>
/// <param name="State">The final state of the task.</param>
public readonly record struct ResultIdentity(string Key, string Kind, string RefId, TaskState State)
{
    /// <summary>
    /// Reads a <see cref="TaskResultMessage"/> or <see cref="InventoryResultMessage"/> of <paramref name="agentId"/>. The key must name
    /// exactly the agent and the task (or request) the result is for: a key that names another task, or carries a suffix, would let
    /// one result stand for another's (stored twice, or stored under another task so that task's own result is dropped as a duplicate).
    /// Throws <see cref="ArgumentException"/> for a result that is not the agent's, names another task, or is not final.
    /// </summary>
    public static ResultIdentity Of(string agentId, Message result)
    {
        var (key, kind, refId, state) = result switch
        {
            TaskResultMessage task => (task.IdempotencyKey, MessageKinds.TaskResult, task.TaskId, task.State),
            InventoryResultMessage inventory => (inventory.IdempotencyKey, MessageKinds.InventoryResult, inventory.RequestId, TaskState.Succeeded),
            _ => throw new ArgumentException($"'{result.GetType().Name}' is not a result", nameof(result)),
        };
        if (string.IsNullOrEmpty(refId))
        {
            throw new ArgumentException($"a '{kind}' must name the {(kind == MessageKinds.TaskResult ? "taskId" : "requestId")} it answers", nameof(result));
        }

        if (!IsKeyFor(key, agentId, refId))
        {
            throw new ArgumentException($"idempotencyKey '{key}' must be '{agentId}:{refId}' (the agent id and the id of what the result is for)", nameof(result));
        }

        if (state is not (TaskState.Succeeded or TaskState.Failed or TaskState.TimedOut or TaskState.Expired or TaskState.Cancelled))
        {
            throw new ArgumentException($"state '{state}' is not a final state; use succeeded, failed, timed-out, expired or cancelled", nameof(result));
        }

        return new ResultIdentity(key, kind, refId, state);
    }

    private static bool IsKeyFor(string? key, string agentId, string refId) =>
        key is not null
        && key.Length == agentId.Length + 1 + refId.Length
        && key.StartsWith(agentId, StringComparison.Ordinal)
        && key[agentId.Length] == ':'
        && key.EndsWith(refId, StringComparison.Ordinal);
}
