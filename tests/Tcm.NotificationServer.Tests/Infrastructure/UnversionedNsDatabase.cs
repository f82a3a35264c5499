using Tcm.NotificationServer.Store;
using Tcm.NotificationServer.Tests.Unit;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>
/// A <c>tcm.db</c> as the NS created it before its schema was versioned (<c>user_version</c> 0): the schema's own version 1,
/// which keeps those CREATE statements word for word (the store, the site-server directory and the Task Server registry
/// each made their own tables; <see cref="TcmStoreMigrationTests.ShippedVersion1_IsNeverEdited"/> holds it to that), and a
/// little data in each table that matters.
/// </summary>
internal static class UnversionedNsDatabase
{
    /// <summary>The tables the site-server directory and the Task Server registry added after the store's own.</summary>
    private static readonly string[] LaterTables = ["site_servers", "ts_tasks"];

    public const string AgentId = "0123456789abcdef0123456789abcdef";
    public const string ComputerName = "PC-OLD";
    public const string ActionId = "a1a1a1a1a1a1a1a1";
    public const string SiteServerId = "5151515151515151";

    /// <summary>Registered at 2026-01-01T00:00:00Z.</summary>
    public const long RegisteredAtMs = 1_767_225_600_000;

    /// <summary>Creates <paramref name="path"/> with the old schema (all of it, or only the store's own tables) and its data.</summary>
    public static void Create(string path, bool withLaterTables = true)
    {
        SqliteFile.Execute(path, "PRAGMA journal_mode=WAL;" + SqliteFile.UnversionedSchema(TcmSchema.Definition, withLaterTables ? [] : LaterTables));
        SqliteFile.Execute(path, $$"""
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
            SqliteFile.Execute(path, $$"""
                INSERT INTO site_servers(id, name, kind, token_hash, created_at) VALUES('{{SiteServerId}}', 'ts-old', 'task-server', 'hash', {{RegisteredAtMs}});
                INSERT INTO ts_tasks(action_id, agent_id, payload) VALUES('{{ActionId}}', '{{AgentId}}', '{}');
                """);
        }
    }
}
