namespace Tcm.Agent.State;

/// <summary>Keeps the state in memory (tests and the simulator). Survives an agent restart within the process, not a process restart.</summary>
public sealed class InMemoryAgentStateStore : IAgentStateStore
{
    private volatile AgentState? _state;

    /// <summary>An empty store, or one that starts with <paramref name="initial"/>.</summary>
    public InMemoryAgentStateStore(AgentState? initial = null) => _state = initial;

    /// <summary>The last saved state.</summary>
    public AgentState? Current => _state;

    /// <inheritdoc/>
    public ValueTask<AgentState?> LoadAsync(CancellationToken ct) => ValueTask.FromResult(_state);

    /// <inheritdoc/>
    public ValueTask SaveAsync(AgentState state, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(state);
        _state = state;
        return ValueTask.CompletedTask;
    }
}
