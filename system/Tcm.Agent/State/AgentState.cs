using Tcm.Protocol;

namespace Tcm.Agent.State;

/// <summary>
/// Everything the agent must remember across restarts: its identity, what it has received and run, what it still has to deliver,
/// and its policy. Saved through <see cref="IAgentStateStore"/>.
/// </summary>
public sealed record AgentState
{
    /// <summary>The id the Notification Server issued at registration.</summary>
    public required string AgentId { get; init; }

    /// <summary>The agent's client certificate (PEM), <c>CN={AgentId}</c>.</summary>
    public required string ClientCertificatePem { get; init; }

    /// <summary>The private key of <see cref="ClientCertificatePem"/> (PKCS#8 PEM). Never leaves the agent.</summary>
    public required string PrivateKeyPem { get; init; }

    /// <summary>The CA the agent trusts the server through.</summary>
    public required string CaCertificatePem { get; init; }

    /// <summary>The highest push sequence number received, per channel role.</summary>
    public IReadOnlyDictionary<ChannelRole, long> LastReceivedSeq { get; set; } = System.Collections.ObjectModel.ReadOnlyDictionary<ChannelRole, long>.Empty;

    /// <summary>Ids of tasks already accepted (run or running), oldest first, bounded; a task id in here is never run again.</summary>
    public IReadOnlyList<string> CompletedTaskIds { get; set; } = [];

    /// <summary>Results (<see cref="TaskResultMessage"/>, <see cref="InventoryResultMessage"/>) not yet acknowledged by the server, oldest first.</summary>
    public IReadOnlyList<Message> UnacknowledgedResults { get; set; } = [];

    /// <summary>Which server each unacknowledged result goes to, by idempotency key (absent: the Notification Server).</summary>
    public IReadOnlyDictionary<string, ChannelRole> ResultRoles { get; set; } = System.Collections.ObjectModel.ReadOnlyDictionary<string, ChannelRole>.Empty;

    /// <summary>The current policy, if the agent has one.</summary>
    public PolicyDocument? Policy { get; init; }
}

/// <summary>Where the agent keeps its <see cref="AgentState"/>.</summary>
public interface IAgentStateStore
{
    /// <summary>The saved state, or <see langword="null"/> when the agent has never registered.</summary>
    ValueTask<AgentState?> LoadAsync(CancellationToken ct);

    /// <summary>Saves <paramref name="state"/>, replacing what was saved before.</summary>
    ValueTask SaveAsync(AgentState state, CancellationToken ct);
}
