using Microsoft.Data.Sqlite;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>
/// A <c>tcm.db</c> as the NS created it before its schema was versioned (<c>user_version</c> 0): the CREATE statements copied
/// from that code (the store, the site-server directory and the Task Server registry each made their own tables), and a
/// little data in each table that matters.
/// </summary>
internal static class UnversionedNsDatabase
{
    /// <summary>The store's own tables, created when it opened.</summary>
    public const string StoreTables = """
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
        """;

    /// <summary>Made by the site-server directory when the server started.</summary>
    public const string SiteServerTable = """
        CREATE TABLE IF NOT EXISTS site_servers(
            id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
            registered_at INTEGER, address TEXT, host_names TEXT, site TEXT, max_agents INTEGER NOT NULL DEFAULT 5000, thumbprint TEXT);
        """;

    /// <summary>Made by the Task Server registry when the server started.</summary>
    public const string TaskServerTable = """
        CREATE TABLE IF NOT EXISTS ts_tasks(
            action_id TEXT NOT NULL, agent_id TEXT NOT NULL, payload TEXT NOT NULL, accepted_by TEXT, PRIMARY KEY(action_id, agent_id)) WITHOUT ROWID;
        """;

    public const string AgentId = "0123456789abcdef0123456789abcdef";
    public const string ComputerName = "PC-OLD";
    public const string ActionId = "a1a1a1a1a1a1a1a1";
    public const string SiteServerId = "5151515151515151";

    /// <summary>Registered at 2026-01-01T00:00:00Z.</summary>
    public const long RegisteredAtMs = 1_767_225_600_000;

    /// <summary>Creates <paramref name="path"/> with the old schema (all of it, or only the store's own tables) and its data.</summary>
    public static void Create(string path, bool withLaterTables = true)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL;" + StoreTables + (withLaterTables ? SiteServerTable + TaskServerTable : ""));
        Execute(connection, $$"""
            INSERT INTO settings(key, value) VALUES('old-setting', 'kept');
            INSERT INTO agents(id, name, domain, os, attributes, registered_at, next_seq, acked_seq)
                VALUES('{{AgentId}}', '{{ComputerName}}', 'corp.example', 'Windows', '{"site":"hq"}', {{RegisteredAtMs}}, 3, 1);
            INSERT INTO pushes(agent_id, seq, kind, payload, action_id, created_at, acked_at) VALUES('{{AgentId}}', 1, 'task', x'7b7d', '{{ActionId}}', {{RegisteredAtMs}}, {{RegisteredAtMs + 1000}});
            INSERT INTO pushes(agent_id, seq, kind, payload, action_id, created_at) VALUES('{{AgentId}}', 2, 'task', x'7b7d', NULL, {{RegisteredAtMs}});
            INSERT INTO actions(id, kind, created_at, request) VALUES('{{ActionId}}', 'task', {{RegisteredAtMs}}, '{"command":"hostname"}');
            INSERT INTO action_targets(action_id, agent_id, status, delivered_via, delivered_at, completed_at, output, exit_code, result_count)
                VALUES('{{ActionId}}', '{{AgentId}}', 'succeeded', 'persistent', {{RegisteredAtMs + 1000}}, {{RegisteredAtMs + 2000}}, 'PC-OLD', 0, 1);
            """);
        if (withLaterTables)
        {
            Execute(connection, $$"""
                INSERT INTO site_servers(id, name, kind, token_hash, created_at) VALUES('{{SiteServerId}}', 'ts-old', 'task-server', 'hash', {{RegisteredAtMs}});
                INSERT INTO ts_tasks(action_id, agent_id, payload) VALUES('{{ActionId}}', '{{AgentId}}', '{}');
                """);
        }
    }

    public static long UserVersion(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return (long)command.ExecuteScalar()!;
    }

    public static void SetUserVersion(string path, int version)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        Execute(connection, $"PRAGMA user_version = {version}");
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
