namespace Tcm.NotificationServer.Store;

/// <summary>
/// Push sequence numbers handed out by a PostgreSQL store that several Notification Server nodes share: inside the write that stores
/// the pushes, each agent's <c>agents.next_seq</c> is taken and moved on, its row locked until the commit. So two nodes pushing to one
/// agent at the same instant get two numbers, one after the other, and the second commits after the first (its number waited for the
/// first's lock): the agent's pushes are in the store in sequence, without a gap, whichever node stored them.
/// <para>
/// The embedded SQLite file has one node, which numbers from its own count (<see cref="Tcm.Channels.Delivery.PushSequence.NextSeq"/>) and
/// never writes <c>agents.next_seq</c> (read back from the pushes at start): no statement per push beyond the push itself.
/// </para>
/// </summary>
internal static class StoreSequences
{
    // why: rows locked in one order (by id) by every node, so two fan-outs over the same agents wait for each other instead of
    // deadlocking; the writer runs a batch again should writes of a batch still meet another node's in the opposite order.
    private const string LockAgents = "SELECT id FROM agents WHERE id = ANY(@p0) ORDER BY id FOR UPDATE";

    // why GREATEST with the node's own count: a row written before nodes took numbers from the store holds next_seq 1 whatever was
    // pushed; the count this node read from the pushes at start is past them (and a row this node is behind on is ahead of its count).
    private const string TakeNext = """
        UPDATE agents a SET next_seq = GREATEST(a.next_seq, k.known) + 1
        FROM unnest(@p0::text[], @p1::bigint[]) AS k(id, known)
        WHERE a.id = k.id
        RETURNING a.id, a.next_seq - 1
        """;

    /// <summary>
    /// Inside a write on PostgreSQL: one sequence number for each of <paramref name="agentIds"/> (distinct), in the same order, with
    /// <paramref name="known"/> the next number this node would have given each (its own count). Throws when an agent has no row.
    /// </summary>
    public static long[] Take(WriteContext context, string[] agentIds, long[] known)
    {
        ArgumentNullException.ThrowIfNull(context);
        // why the cast: the ids are one parameter (an array), not the parameter list.
        context.Query(LockAgents, static r => 0, (object)agentIds);
        var taken = new Dictionary<string, long>(agentIds.Length, StringComparer.Ordinal);
        foreach (var (id, seq) in context.Query(TakeNext, static r => (r.GetString(0), r.GetInt64(1)), agentIds, known))
        {
            taken[id] = seq;
        }

        var seqs = new long[agentIds.Length];
        for (var i = 0; i < agentIds.Length; i++)
        {
            seqs[i] = taken.TryGetValue(agentIds[i], out var seq)
                ? seq
                : throw new InvalidOperationException($"Agent '{agentIds[i]}' has no row in the store, so it has no sequence number to push with.");
        }

        return seqs;
    }
}
