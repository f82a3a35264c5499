using Microsoft.Data.Sqlite;
using Tcm.Hosting.Storage;
using Tcm.TaskServer.Store;

namespace Tcm.TaskServer.Tests;

/// <summary>Opening <c>ts.db</c> of every age: new, from before versioning, current, and from a newer TCM.</summary>
public sealed class TsStoreSchemaTests : IDisposable
{
    /// <summary>The CREATE statements of the Task Server before its store was versioned (<c>user_version</c> 0), copied from that code.</summary>
    private const string UnversionedSchema = """
        CREATE TABLE IF NOT EXISTS agents(id TEXT PRIMARY KEY, registered_at INTEGER NOT NULL, next_seq INTEGER NOT NULL DEFAULT 1, acked_seq INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS pushes(
            agent_id TEXT NOT NULL, seq INTEGER NOT NULL, action_id TEXT NOT NULL, payload BLOB NOT NULL, created_at INTEGER NOT NULL,
            PRIMARY KEY(agent_id, seq)) WITHOUT ROWID;
        CREATE UNIQUE INDEX IF NOT EXISTS pushes_action ON pushes(agent_id, action_id);
        CREATE TABLE IF NOT EXISTS results(idempotency_key TEXT PRIMARY KEY, agent_id TEXT NOT NULL, received_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, payload TEXT NOT NULL);
        """;

    private const string UnversionedData = """
        INSERT INTO agents(id, registered_at, next_seq, acked_seq) VALUES('agent-1', 1767225600000, 3, 1);
        INSERT INTO pushes(agent_id, seq, action_id, payload, created_at) VALUES('agent-1', 2, 'act-2', x'7b7d', 1767225600000);
        INSERT INTO results(idempotency_key, agent_id, received_at) VALUES('agent-1:act-1', 'agent-1', 1767225600000);
        INSERT INTO outbox(kind, payload) VALUES('status', 'not yet forwarded');
        """;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tcm-ts-unit", Guid.NewGuid().ToString("N")[..12]);

    private string DatabasePath => Path.Combine(_dir, TsStore.FileName);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void FreshDataFolder_IsBuiltAtTheCurrentVersion()
    {
        using var store = new TsStore(_dir);

        store.Schema.Should().Be(new SchemaMigrationOutcome(0, TsSchema.Definition.CurrentVersion, AdoptedUnversioned: false));
        UserVersion().Should().Be(TsSchema.Definition.CurrentVersion);
        store.Query("SELECT name FROM sqlite_master WHERE type IN ('table','index') AND name NOT LIKE 'sqlite%' ORDER BY name", r => r.GetString(0))
            .Should().Equal("agents", "outbox", "pushes", "pushes_action", "results");
    }

    [Fact]
    public void DatabaseFromBeforeVersioning_IsRecognisedAsVersion1_AndKeepsItsData()
    {
        Directory.CreateDirectory(_dir);
        Execute(UnversionedSchema + UnversionedData);

        using (var store = new TsStore(_dir))
        {
            store.Schema.Should().Be(new SchemaMigrationOutcome(0, TsSchema.Definition.CurrentVersion, AdoptedUnversioned: true));
            store.Query("SELECT next_seq, acked_seq FROM agents WHERE id='agent-1'", r => (r.GetInt64(0), r.GetInt64(1))).Should().Equal((3L, 1L));
            store.Query("SELECT action_id FROM pushes", r => r.GetString(0)).Should().Equal("act-2");
            store.Query("SELECT idempotency_key FROM results", r => r.GetString(0)).Should().Equal("agent-1:act-1");
            store.Query("SELECT payload FROM outbox", r => r.GetString(0)).Should().Equal("not yet forwarded");
        }

        UserVersion().Should().Be(TsSchema.Definition.CurrentVersion);
        using var reopened = new TsStore(_dir);
        reopened.Schema.Should().Be(new SchemaMigrationOutcome(TsSchema.Definition.CurrentVersion, TsSchema.Definition.CurrentVersion, AdoptedUnversioned: false));
    }

    [Fact]
    public void DatabaseFromANewerVersion_IsRefusedWithAClearError_AndLeftUntouched()
    {
        Directory.CreateDirectory(_dir);
        var newer = TsSchema.Definition.CurrentVersion + 1;
        Execute(UnversionedSchema + UnversionedData + $"PRAGMA user_version = {newer};");

        var open = () => new TsStore(_dir);

        open.Should().Throw<StoreVersionException>()
            .WithMessage($"*{TsStore.FileName} is at schema version {newer}, but this TCM knows versions up to {TsSchema.Definition.CurrentVersion}*newer TCM*");
        UserVersion().Should().Be(newer);
    }

    private long UserVersion()
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return (long)command.ExecuteScalar()!;
    }

    private void Execute(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
