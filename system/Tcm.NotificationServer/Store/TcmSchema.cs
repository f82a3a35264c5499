using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Store;

/// <summary>
/// Every table of the NS's store, as the migrations that build it (one text for SQLite and PostgreSQL, but where SQLite's words have no
/// PostgreSQL counterpart: see <see cref="PostgresDdl"/>). A schema change is a new migration appended here, never an
/// edit of one that shipped: a data folder from any earlier version then opens by running the ones it lacks.
/// </summary>
internal static class TcmSchema
{
    /// <summary>
    /// Version 1: the schema as TCM created it before stores were versioned (then spread over the store, the site-server
    /// directory and the Task Server registry), kept word for word so such a database is recognised as this version.
    /// </summary>
    private const string Version1 = """
        CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS profiles(id TEXT PRIMARY KEY, name TEXT NOT NULL, priority INTEGER NOT NULL, body TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS targeted_settings(id TEXT PRIMARY KEY, name TEXT NOT NULL, priority INTEGER NOT NULL, body TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS install_packages(id TEXT PRIMARY KEY, profile_id TEXT, token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS agents(
            id TEXT PRIMARY KEY, name TEXT NOT NULL, domain TEXT, os TEXT, attributes TEXT NOT NULL, registered_at INTEGER NOT NULL,
            last_contact INTEGER, next_seq INTEGER NOT NULL DEFAULT 1, acked_seq INTEGER NOT NULL DEFAULT 0, network_status TEXT,
            inventory TEXT, previous_id TEXT, package_id TEXT);
        CREATE TABLE IF NOT EXISTS pushes(
            agent_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, payload BLOB NOT NULL, action_id TEXT,
            created_at INTEGER NOT NULL, acked_at INTEGER, PRIMARY KEY(agent_id, seq)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS actions(id TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at INTEGER NOT NULL, request TEXT);
        CREATE TABLE IF NOT EXISTS action_targets(
            action_id TEXT NOT NULL, agent_id TEXT NOT NULL, status TEXT NOT NULL, delivered_via TEXT, delivered_at INTEGER,
            completed_at INTEGER, output TEXT, exit_code INTEGER, result_count INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY(action_id, agent_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS results(
            idempotency_key TEXT PRIMARY KEY, agent_id TEXT NOT NULL, kind TEXT NOT NULL, ref_id TEXT NOT NULL,
            payload TEXT NOT NULL, received_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS site_servers(
            id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
            registered_at INTEGER, address TEXT, host_names TEXT, site TEXT, max_agents INTEGER NOT NULL DEFAULT 5000, thumbprint TEXT);
        CREATE TABLE IF NOT EXISTS ts_tasks(
            action_id TEXT NOT NULL, agent_id TEXT NOT NULL, payload TEXT NOT NULL, accepted_by TEXT, PRIMARY KEY(action_id, agent_id)) WITHOUT ROWID;
        """;

    /// <summary>
    /// Version 2: <c>pushes</c> in the order they were stored (a rowid table) with a unique index on <c>(agent_id, seq)</c>, instead of
    /// clustered by agent. Why: a fan-out stores one push per agent and its acknowledgements mark each of them, so clustered by agent
    /// every fan-out rewrote about one page per agent twice (a push row with its payload fills a tenth of a page), each to the WAL:
    /// about 20 KB of file writes per delivered task in a fan-out's measurement. In store order a fan-out's pushes share their pages;
    /// only the small index entries are spread.
    /// </summary>
    private const string Version2 = """
        CREATE TABLE pushes_by_arrival(
            agent_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, payload BLOB NOT NULL, action_id TEXT,
            created_at INTEGER NOT NULL, acked_at INTEGER);
        INSERT INTO pushes_by_arrival(agent_id, seq, kind, payload, action_id, created_at, acked_at)
            SELECT agent_id, seq, kind, payload, action_id, created_at, acked_at FROM pushes ORDER BY created_at, agent_id, seq;
        DROP TABLE pushes;
        ALTER TABLE pushes_by_arrival RENAME TO pushes;
        CREATE UNIQUE INDEX pushes_agent_seq ON pushes(agent_id, seq);
        """;

    /// <summary>
    /// Expiry and cancel of actions: an action's not-after (a task must not start after it), when its pending targets were marked expired
    /// and when an administrator cancelled it; the index holds only actions whose not-after has yet to be swept.
    /// </summary>
    private const string ActionExpiryAndCancel = """
        ALTER TABLE actions ADD COLUMN not_after INTEGER;
        ALTER TABLE actions ADD COLUMN expired_at INTEGER;
        ALTER TABLE actions ADD COLUMN cancelled_at INTEGER;
        CREATE INDEX actions_not_after_due ON actions(not_after) WHERE not_after IS NOT NULL AND expired_at IS NULL;
        """;

    /// <summary>
    /// Admin keys with roles (the key itself never: its PBKDF2 hash and salt) and the audit trail of administrators' changes, newest
    /// read first, filtered by time, by who or by kind.
    /// </summary>
    private const string AdminAccess = """
        CREATE TABLE admin_keys(
            id TEXT PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE UNIQUE, role TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL,
            iterations INTEGER NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL, revoked_at INTEGER, revoked_by TEXT);
        CREATE TABLE audit(
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, who TEXT NOT NULL, role TEXT NOT NULL, kind TEXT NOT NULL,
            operation TEXT NOT NULL, target TEXT, status INTEGER NOT NULL, before TEXT, after TEXT);
        CREATE INDEX audit_at ON audit(at);
        CREATE INDEX audit_who ON audit(who COLLATE NOCASE, at);
        CREATE INDEX audit_kind ON audit(kind, at);
        """;

    /// <summary>
    /// <see cref="AdminAccess"/> on PostgreSQL, which has no <c>NOCASE</c>: key names are unique and the audit is searched by who
    /// through indexes on <c>lower(...)</c>, as <see cref="TcmStore.EqualsIgnoringCase"/> queries them.
    /// </summary>
    private const string AdminAccessOnPostgres = """
        CREATE TABLE admin_keys(
            id TEXT COLLATE "C" PRIMARY KEY, name TEXT COLLATE "C" NOT NULL, role TEXT COLLATE "C" NOT NULL, salt BYTEA NOT NULL, hash BYTEA NOT NULL,
            iterations BIGINT NOT NULL, created_at BIGINT NOT NULL, created_by TEXT COLLATE "C" NOT NULL, revoked_at BIGINT, revoked_by TEXT COLLATE "C");
        CREATE UNIQUE INDEX admin_keys_name ON admin_keys(lower(name));
        CREATE TABLE audit(
            seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, who TEXT COLLATE "C" NOT NULL, role TEXT COLLATE "C" NOT NULL,
            kind TEXT COLLATE "C" NOT NULL, operation TEXT COLLATE "C" NOT NULL, target TEXT COLLATE "C", status BIGINT NOT NULL, before TEXT COLLATE "C",
            after TEXT COLLATE "C");
        CREATE INDEX audit_at ON audit(at);
        CREATE INDEX audit_who ON audit(lower(who), at);
        CREATE INDEX audit_kind ON audit(kind, at);
        """;

    /// <summary>
    /// Version 5: actions that go out in waves. <c>action_wave_plans</c> holds an action's plan and, once its brake tripped, when and
    /// why; <c>action_waves</c> each wave's size and when it was sent (null: not yet); <c>action_targets.wave</c> which wave a target
    /// is in. What a restarted server needs to send the waves left, at their time.
    /// </summary>
    private const string WavesOfActions = """
        CREATE TABLE action_wave_plans(action_id TEXT PRIMARY KEY, plan TEXT NOT NULL, stopped_at INTEGER, stop_reason TEXT);
        CREATE TABLE action_waves(
            action_id TEXT NOT NULL, wave INTEGER NOT NULL, targets INTEGER NOT NULL, started_at INTEGER,
            PRIMARY KEY(action_id, wave)) WITHOUT ROWID;
        ALTER TABLE action_targets ADD COLUMN wave INTEGER;
        """;

    /// <summary>
    /// Version 6: which Notification Server node holds each agent's persistent connection (several nodes share one database): set
    /// after the agent's hello, cleared when that connection ends or the node starts again.
    /// </summary>
    private const string AgentsNode = """
        ALTER TABLE agents ADD COLUMN node TEXT;
        """;

    /// <summary>
    /// Version 7: which Notification Server node sends an action's waves (several nodes share one database), and until when its lease
    /// holds (milliseconds since the epoch); another node takes the action over once the lease ran out.
    /// </summary>
    private const string WaveDrivers = """
        ALTER TABLE action_wave_plans ADD COLUMN driver TEXT;
        ALTER TABLE action_wave_plans ADD COLUMN lease_until INTEGER;
        """;

    /// <summary>
    /// Version 8: Task Servers across nodes (several nodes share one database, and an administrator's node may not be the one a Task
    /// Server calls): a cancel of a task a Task Server accepted, kept until that Task Server took it (the index holds only the cancels not
    /// taken yet), and which Task Server holds each agent, so the one an agent left releases it whichever node it calls.
    /// </summary>
    private const string TaskServersAcrossNodes = """
        ALTER TABLE ts_tasks ADD COLUMN cancelled_at INTEGER;
        CREATE INDEX ts_tasks_cancels ON ts_tasks(accepted_by) WHERE cancelled_at IS NOT NULL;
        CREATE TABLE ts_holders(agent_id TEXT PRIMARY KEY, server_id TEXT NOT NULL) WITHOUT ROWID;
        """;

    /// <summary>
    /// Version 9: what the Notification Server knows of each CEM gateway, so that every node sharing the database shows the same and the
    /// node that holds a gateway's decision poll delivers a decision made on another: the gateway's latest report (JSON, and when it
    /// arrived), the node whose decision poll it holds open (several nodes only), and the administrators' decisions it has not
    /// acknowledged yet.
    /// </summary>
    private const string GatewayStates = """
        CREATE TABLE gateway_states(gateway_id TEXT PRIMARY KEY, report TEXT, reported_at INTEGER, poll_node TEXT);
        CREATE TABLE gateway_decisions(
            id TEXT PRIMARY KEY, gateway_id TEXT NOT NULL, thumbprint TEXT NOT NULL, action TEXT NOT NULL, decided_at INTEGER NOT NULL);
        CREATE INDEX gateway_decisions_gateway ON gateway_decisions(gateway_id, decided_at);
        """;

    /// <summary>
    /// Version 10: what each node knew only in memory, for the others sharing the database: the route an agent's last hello reported
    /// (written with the node that holds its connection), and each Task Server's counts as the node it calls has them (agents held, of
    /// those connected, and its last contact with that node, milliseconds since the epoch), written by that node, one row a Task Server.
    /// </summary>
    private const string StateAcrossNodes = """
        ALTER TABLE agents ADD COLUMN route TEXT;
        CREATE TABLE ts_states(
            server_id TEXT PRIMARY KEY, node TEXT NOT NULL, agents INTEGER NOT NULL, connected INTEGER NOT NULL, contact_at INTEGER NOT NULL) WITHOUT ROWID;
        """;

    /// <summary>
    /// Version 11: <c>results</c> in the order they arrived (a rowid table) and unique by task first (<c>ref_id</c>, then the idempotency
    /// key), instead of keyed by the idempotency key alone. Why: the key is <c>agentId:taskId</c>, so a fan-out's results landed all over
    /// an index that grows with every fan-out, and each commit of a burst of them rewrote one index page per result to the WAL. Keyed by
    /// task first, a fan-out's entries share their pages. Still one row per key: the key names its task (<see cref="Tcm.Channels.Delivery.ResultIdentity"/>),
    /// so two rows with one key have one <c>ref_id</c>, as the Task Server's results (its schema's version 2).
    /// </summary>
    private const string ResultsByTask = """
        CREATE TABLE results_by_task(
            idempotency_key TEXT NOT NULL, agent_id TEXT NOT NULL, kind TEXT NOT NULL, ref_id TEXT NOT NULL,
            payload TEXT NOT NULL, received_at INTEGER NOT NULL);
        INSERT INTO results_by_task(idempotency_key, agent_id, kind, ref_id, payload, received_at)
            SELECT idempotency_key, agent_id, kind, ref_id, payload, received_at FROM results ORDER BY received_at, idempotency_key;
        DROP TABLE results;
        ALTER TABLE results_by_task RENAME TO results;
        CREATE UNIQUE INDEX results_task_key ON results(ref_id, idempotency_key);
        """;

    /// <summary>The schema of <c>tcm.db</c>.</summary>
    public static StoreSchema Definition { get; } = new(
        TcmStore.FileName,
        [
            new SchemaMigration(1, "the schema before versioning", Version1),
            new SchemaMigration(2, "pushes in store order, unique by agent and sequence", Version2),
            new SchemaMigration(3, "actions' not-after, expiry and cancel", ActionExpiryAndCancel),
            new SchemaMigration(4, "admin keys with roles and the audit trail", AdminAccess, AdminAccessOnPostgres),
            new SchemaMigration(5, "actions in waves", WavesOfActions),
            new SchemaMigration(6, "the node that holds each agent", AgentsNode),
            new SchemaMigration(7, "the node that sends each action's waves", WaveDrivers),
            new SchemaMigration(8, "Task Servers' cancels until taken, and which Task Server holds each agent", TaskServersAcrossNodes),
            new SchemaMigration(9, "gateways' reports and pending decisions", GatewayStates),
            new SchemaMigration(10, "agents' routes and Task Servers' counts for every node", StateAcrossNodes),
            new SchemaMigration(11, "results in arrival order, unique by task and key", ResultsByTask),
        ],
        ["settings", "profiles", "targeted_settings", "install_packages", "agents", "pushes", "actions", "action_targets", "results", "site_servers", "ts_tasks"]);
}
