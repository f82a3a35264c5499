namespace Tcm.NotificationServer.Cluster;

/// <summary>
/// The <see cref="NodeChangeKind.AgentState"/> changes of a batch of agents: their ids, several to a change, each change short enough for
/// one notification, so a burst of reports from thousands of agents is a few notifications, and a reading node reads each change's agents
/// with one query.
/// </summary>
internal static class AgentStateChange
{
    /// <summary>What separates the agents' ids in a change's id.</summary>
    public const char Separator = ',';

    /// <summary>The most ids one change names (agent ids are 32 characters: a change stays well below a notification's length).</summary>
    internal const int MaxIds = 200;

    /// <summary>The changes that name <paramref name="agentIds"/>.</summary>
    public static IEnumerable<NodeChange> For(IReadOnlyList<string> agentIds)
    {
        for (var start = 0; start < agentIds.Count; start += MaxIds)
        {
            var count = Math.Min(MaxIds, agentIds.Count - start);
            yield return new NodeChange(NodeChangeKind.AgentState, string.Join(Separator, agentIds.Skip(start).Take(count)));
        }
    }

    /// <summary>The agents a change's id names.</summary>
    public static string[] Ids(string? id) =>
        string.IsNullOrEmpty(id) ? [] : id.Split(Separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
