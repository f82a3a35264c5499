using Tcm.Lab.Fleet;

namespace Tcm.Simulator.Fleet;

/// <summary>A fleet: the agents of one shard (or all), with the fleet-wide facts.</summary>
internal sealed record FleetModel
{
    /// <summary>The agents built (only the shard's when a shard was given), ordered by index.</summary>
    public required IReadOnlyList<AgentSpec> Agents { get; init; }
    /// <summary>Agents in the whole fleet (all shards).</summary>
    public required int TotalAgents { get; init; }
    /// <summary>Agents per group in the whole fleet, by group name.</summary>
    public required IReadOnlyDictionary<string, int> GroupCounts { get; init; }
    /// <summary>The fleet's AD domain.</summary>
    public required string Domain { get; init; }
    public required int Seed { get; init; }
    public ShardSpec? Shard { get; init; }
}
