using Tcm.Hosting.Storage;
using Tcm.TaskServer.Store;

namespace Tcm.TaskServer.Agents;

/// <summary>
/// Writes the next push sequence of many agents in one statement. Why: a fan-out's write made one <c>UPDATE agents</c> per task
/// beside the push's insert (2,000 statements for 2,000 agents); one update joined with a JSON list of (agent, next sequence) pairs
/// writes the same rows, each found by its key.
/// </summary>
internal static class TsAgentSequences
{
    private const string Sql = "UPDATE agents SET next_seq = j.value ->> 1 FROM json_each(@p0) AS j WHERE agents.id = j.value ->> 0";

    /// <summary>Writes each of <paramref name="agents"/>' <see cref="Tcm.Channels.Delivery.PushSequence.NextSeq"/>, inside <paramref name="store"/>'s transaction.</summary>
    public static void Write(TsStore store, IReadOnlyCollection<TsAgent> agents)
    {
        if (agents.Count > 0)
        {
            store.Execute(Sql, SqliteJsonList.OfPairs(agents, static a => a.Id, static a => a.NextSeq));
        }
    }
}
