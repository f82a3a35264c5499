using Tcm.Protocol;

namespace Tcm.Agent.Connection;

/// <summary>What a connection hands to the agent's delivery: pushes (from its channel or an HTTP poll) and acknowledged results.</summary>
internal interface IDelivery
{
    /// <summary>Records a push (persisted before the ack), acknowledges it on <paramref name="channel"/> when there is one, then acts on it if it is new.</summary>
    Task HandlePushAsync(ConnectionLoop connection, PushMessage push, AgentChannel? channel, CancellationToken ct);

    /// <summary>The server stored these results: forget them.</summary>
    Task AcknowledgeAsync(IReadOnlyList<string> idempotencyKeys, CancellationToken ct);

    /// <summary>The server cancelled a task: stop it if it waits or runs here (it reports <see cref="TaskState.Cancelled"/>).</summary>
    void Cancel(TaskCancelMessage cancel);

    /// <summary>One HTTP cycle of <paramref name="connection"/>: deliver pending results, then fetch pending pushes.</summary>
    Task PollOverHttpAsync(ConnectionLoop connection, CancellationToken ct);
}
