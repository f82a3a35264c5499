using Microsoft.Data.Sqlite;
using Tcm.Hosting.Storage;
using Tcm.TaskServer.Store;

namespace Tcm.TaskServer.Tests;

/// <summary>Opening <c>ts.db</c> of every age: new, from before versioning, current, and from a newer TCM.</summary>
public sealed class TsStoreSchemaTests : IDisposable
{
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
        SqliteFile.UserVersion(DatabasePath).Should().Be(TsSchema.Definition.CurrentVersion);
        store.Query("SELECT name FROM sqlite_master WHERE type IN ('table','index') AND name NOT LIKE 'sqlite%' ORDER BY name", r => r.GetString(0))
            .Should().Equal("agents", "outbox", "pushes", "pushes_action", "pushes_agent_seq", "results");
    }

    [Fact]
    public void ShippedVersion1_IsNeverEdited()
    {
        // why: data folders in the field hold the tables this text created, and these tests build the old database from it.
        SqliteFile.Fingerprint(TsSchema.Definition.Migrations[0])
            .Should().Be("830d97e7f808e67e7326694745b85b97402c4410dc5dab59b8893f4a49ef6602", "a schema change is a new migration, never an edit of version 1");
    }

    [Fact]
    public void DatabaseFromBeforeVersioning_IsRecognisedAsVersion1_AndKeepsItsData()
    {
        SqliteFile.Execute(DatabasePath, SqliteFile.UnversionedSchema(TsSchema.Definition) + UnversionedData);

        using (var store = new TsStore(_dir))
        {
            store.Schema.Should().Be(new SchemaMigrationOutcome(0, TsSchema.Definition.CurrentVersion, AdoptedUnversioned: true));
            store.Query("SELECT next_seq, acked_seq FROM agents WHERE id='agent-1'", r => (r.GetInt64(0), r.GetInt64(1))).Should().Equal((3L, 1L));
            store.Query("SELECT agent_id, seq, action_id FROM pushes", r => (r.GetString(0), r.GetInt64(1), r.GetString(2))).Should().Equal(("agent-1", 2L, "act-2"));
            store.Query("SELECT task_id, idempotency_key, agent_id FROM results", r => (r.GetString(0), r.GetString(1), r.GetString(2)))
                .Should().ContainSingle().Which.Should().Be(("act-1", "agent-1:act-1", "agent-1"), "version 2 keys a result by its task first, read from its key");
            store.Query("SELECT payload FROM outbox", r => r.GetString(0)).Should().Equal("not yet forwarded");
        }

        SqliteFile.UserVersion(DatabasePath).Should().Be(TsSchema.Definition.CurrentVersion);
        using var reopened = new TsStore(_dir);
        reopened.Schema.Should().Be(new SchemaMigrationOutcome(TsSchema.Definition.CurrentVersion, TsSchema.Definition.CurrentVersion, AdoptedUnversioned: false));
    }

    [Fact]
    public void DatabaseFromANewerVersion_IsRefusedWithAClearError_AndLeftUntouched()
    {
        var newer = TsSchema.Definition.CurrentVersion + 1;
        SqliteFile.Execute(DatabasePath, SqliteFile.UnversionedSchema(TsSchema.Definition) + UnversionedData + $"PRAGMA user_version = {newer};");

        var open = () => new TsStore(_dir);

        open.Should().Throw<StoreVersionException>()
            .WithMessage($"*{TsStore.FileName} is at schema version {newer}, but this TCM knows versions up to {TsSchema.Definition.CurrentVersion}*newer TCM*");
        SqliteFile.UserVersion(DatabasePath).Should().Be(newer);
    }
}
