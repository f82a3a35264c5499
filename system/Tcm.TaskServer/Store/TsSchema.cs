using Tcm.Hosting.Storage;

namespace Tcm.TaskServer.Store;

/// <summary>
/// Every table of <c>ts.db</c>, as the migrations that build it. A schema change is a new migration appended here, never an
/// edit of one that shipped: a data folder from any earlier version then opens by running the ones it lacks.
/// </summary>
internal static class TsSchema
{
    /// <summary>Version 1: the schema as the Task Server created it before stores were versioned, kept word for word.</summary>
    private const string Version1 = """
        CREATE TABLE IF NOT EXISTS agents(id TEXT PRIMARY KEY, registered_at INTEGER NOT NULL, next_seq INTEGER NOT NULL DEFAULT 1, acked_seq INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS pushes(
            agent_id TEXT NOT NULL, seq INTEGER NOT NULL, action_id TEXT NOT NULL, payload BLOB NOT NULL, created_at INTEGER NOT NULL,
            PRIMARY KEY(agent_id, seq)) WITHOUT ROWID;
        CREATE UNIQUE INDEX IF NOT EXISTS pushes_action ON pushes(agent_id, action_id);
        CREATE TABLE IF NOT EXISTS results(idempotency_key TEXT PRIMARY KEY, agent_id TEXT NOT NULL, received_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, payload TEXT NOT NULL);
        """;

    /// <summary>
    /// Version 2: <c>pushes</c> in the order they were stored (a rowid table, unique indexes on <c>(agent_id, seq)</c> and
    /// <c>(agent_id, action_id)</c>) instead of clustered by agent, and <c>results</c> keyed by task first. Why: a fan-out stores one push
    /// and one result per agent; clustered by agent (results by <c>agentId:taskId</c>) each commit of a fan-out's writes rewrote about one
    /// page per agent, and the results table grows with every fan-out, so a commit of a few hundred results wrote a few hundred pages to
    /// the WAL (file writes and SQLite a third of the Task Server's CPU in a fan-out's profile). Stored in order a fan-out's rows share
    /// their pages; only the small index entries of the pushes are spread, as on the Notification Server (its schema's version 2).
    /// </summary>
    private const string Version2 = """
        CREATE TABLE pushes_by_arrival(agent_id TEXT NOT NULL, seq INTEGER NOT NULL, action_id TEXT NOT NULL, payload BLOB NOT NULL, created_at INTEGER NOT NULL);
        INSERT INTO pushes_by_arrival(agent_id, seq, action_id, payload, created_at)
            SELECT agent_id, seq, action_id, payload, created_at FROM pushes ORDER BY created_at, agent_id, seq;
        DROP TABLE pushes;
        ALTER TABLE pushes_by_arrival RENAME TO pushes;
        CREATE UNIQUE INDEX pushes_agent_seq ON pushes(agent_id, seq);
        CREATE UNIQUE INDEX pushes_action ON pushes(agent_id, action_id);
        CREATE TABLE results_by_task(
            task_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, agent_id TEXT NOT NULL, received_at INTEGER NOT NULL,
            PRIMARY KEY(task_id, idempotency_key)) WITHOUT ROWID;
        INSERT INTO results_by_task(task_id, idempotency_key, agent_id, received_at)
            SELECT substr(idempotency_key, length(agent_id) + 2), idempotency_key, agent_id, received_at FROM results;
        DROP TABLE results;
        ALTER TABLE results_by_task RENAME TO results;
        """;

    /// <summary>The schema of <c>ts.db</c>.</summary>
    public static StoreSchema Definition { get; } = new(
        TsStore.FileName,
        [
            new SchemaMigration(1, "the schema before versioning", Version1),
            new SchemaMigration(2, "pushes in store order, results keyed by task first", Version2),
        ],
        ["agents", "pushes", "results", "outbox"]);
}
