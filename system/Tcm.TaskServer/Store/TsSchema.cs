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

    /// <summary>The schema of <c>ts.db</c>.</summary>
    public static StoreSchema Definition { get; } = new(
        TsStore.FileName,
        [new SchemaMigration(1, "the schema before versioning", Version1)],
        ["agents", "pushes", "results", "outbox"]);
}
