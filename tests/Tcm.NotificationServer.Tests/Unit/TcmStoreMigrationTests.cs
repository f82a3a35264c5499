using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Store;
using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>Opening <c>tcm.db</c> of every age: new, from before versioning, current, and from a newer TCM.</summary>
public sealed class TcmStoreMigrationTests : IDisposable
{
    private readonly TemporaryFolder _folder = new("ns-schema");

    private string DatabasePath => _folder.File(TcmStore.FileName);

    private const string WhySqliteOnly = "it opens the SQLite store on a tcm.db and reads or stamps the file's user_version";

    public void Dispose() => _folder.Dispose();

    [SqliteOnlyFact(WhySqliteOnly)]
    public async Task FreshDataFolder_IsBuiltAtTheCurrentVersion()
    {
        await using var store = new TcmStore(_folder.Path, NullLogger.Instance);

        store.Schema.Should().Be(new SchemaMigrationOutcome(0, TcmSchema.Definition.CurrentVersion, AdoptedUnversioned: false));
        SqliteFile.UserVersion(DatabasePath).Should().Be(TcmSchema.Definition.CurrentVersion);
        foreach (var table in TcmSchema.Definition.UnversionedTables)
        {
            store.Query("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=@p0", r => r.GetInt64(0), table).Single()
                .Should().Be(1, $"table {table} belongs to the schema");
        }
    }

    [Fact]
    public void ShippedVersion1_IsNeverEdited()
    {
        // why: data folders in the field hold the tables this text created, and UnversionedNsDatabase builds the old database from it.
        SqliteFile.Fingerprint(TcmSchema.Definition.Migrations[0])
            .Should().Be("35326bf4d3d147f2eafb38200bc8205e0c1042c6acfefd548d07997a0e420484", "a schema change is a new migration, never an edit of version 1");
    }

    [SqliteOnlyFact(WhySqliteOnly)]
    public async Task DatabaseFromBeforeVersioning_IsRecognisedAsVersion1_AndKeepsItsData()
    {
        UnversionedNsDatabase.Create(DatabasePath);

        await using var store = new TcmStore(_folder.Path, NullLogger.Instance);

        store.Schema.Should().Be(new SchemaMigrationOutcome(0, TcmSchema.Definition.CurrentVersion, AdoptedUnversioned: true),
            "a database made by the code whose schema is version 1 already holds version 1");
        SqliteFile.UserVersion(DatabasePath).Should().Be(TcmSchema.Definition.CurrentVersion);
        AssertOldDataIsThere(store);
        store.Query("SELECT name FROM site_servers", r => r.GetString(0)).Should().Equal("ts-old");
        store.Query("SELECT action_id FROM ts_tasks", r => r.GetString(0)).Should().Equal(UnversionedNsDatabase.ActionId);
    }

    [SqliteOnlyFact(WhySqliteOnly)]
    public async Task DatabaseFromBeforeVersioning_StillRefusesASecondPushWithTheSameSequence_AfterItsPushesAreRebuilt()
    {
        UnversionedNsDatabase.Create(DatabasePath);
        await using var store = new TcmStore(_folder.Path, NullLogger.Instance);

        var again = () => store.Writer.WriteAsync(ctx => ctx.Execute(
            "INSERT INTO pushes(agent_id, seq, kind, payload, action_id, created_at) VALUES(@p0, 2, 'task', x'7b7d', NULL, 0)", UnversionedNsDatabase.AgentId));
        var next = await store.Writer.WriteAsync(ctx => ctx.Execute(
            "INSERT INTO pushes(agent_id, seq, kind, payload, action_id, created_at) VALUES(@p0, 3, 'task', x'7b7d', NULL, 0)", UnversionedNsDatabase.AgentId));

        (await again.Should().ThrowAsync<SqliteException>()).Which.SqliteErrorCode.Should().Be(19, "SQLITE_CONSTRAINT: one push per agent and sequence");
        next.Should().Be(1);
        store.GetPushesAfter(UnversionedNsDatabase.AgentId, 0, int.MaxValue).Select(p => p.Seq).Should().Equal(1, 2, 3);
    }

    [SqliteOnlyFact(WhySqliteOnly)]
    public async Task DatabaseFromBeforeVersioning_KeepsItsResults_AndStillStoresEachKeyOnce_AfterTheyAreKeyedByTask()
    {
        UnversionedNsDatabase.Create(DatabasePath);
        const string OtherAgent = "fedcba9876543210fedcba9876543210";
        var key = $"{UnversionedNsDatabase.AgentId}:{UnversionedNsDatabase.ActionId}";
        SqliteFile.Execute(DatabasePath, $$"""
            INSERT INTO results(idempotency_key, agent_id, kind, ref_id, payload, received_at)
                VALUES('{{key}}', '{{UnversionedNsDatabase.AgentId}}', 'task.result', '{{UnversionedNsDatabase.ActionId}}', '{"old":1}', {{UnversionedNsDatabase.RegisteredAtMs}});
            """);
        await using var store = new TcmStore(_folder.Path, NullLogger.Instance);

        const string Insert = "INSERT INTO results(idempotency_key, agent_id, kind, ref_id, payload, received_at) VALUES(@p0,@p1,'task.result',@p2,'{}',@p3) ON CONFLICT DO NOTHING";
        var again = await store.Writer.WriteAsync(ctx => ctx.Execute(Insert, key, UnversionedNsDatabase.AgentId, UnversionedNsDatabase.ActionId, UnversionedNsDatabase.RegisteredAtMs + 1));
        var otherAgents = await store.Writer.WriteAsync(ctx => ctx.Execute(
            Insert, $"{OtherAgent}:{UnversionedNsDatabase.ActionId}", OtherAgent, UnversionedNsDatabase.ActionId, UnversionedNsDatabase.RegisteredAtMs + 2));

        again.Should().Be(0, "a result already stored before the migration is a duplicate after it");
        otherAgents.Should().Be(1);
        store.Query("SELECT idempotency_key, payload FROM results ORDER BY received_at", r => (r.GetString(0), r.GetString(1)))
            .Should().Equal((key, "{\"old\":1}"), ($"{OtherAgent}:{UnversionedNsDatabase.ActionId}", "{}"));
    }

    [SqliteOnlyFact(WhySqliteOnly)]
    public async Task DatabaseFromBeforeVersioning_WithoutTheLaterTables_GetsThem_AndKeepsItsData()
    {
        UnversionedNsDatabase.Create(DatabasePath, withLaterTables: false);

        await using var store = new TcmStore(_folder.Path, NullLogger.Instance);

        store.Schema.Should().Be(new SchemaMigrationOutcome(0, TcmSchema.Definition.CurrentVersion, AdoptedUnversioned: false),
            "a database lacking tables of version 1 is brought to it, not stamped");
        AssertOldDataIsThere(store);
        store.Query("SELECT COUNT(*) FROM site_servers", r => r.GetInt64(0)).Single().Should().Be(0);
        store.Query("SELECT COUNT(*) FROM ts_tasks", r => r.GetInt64(0)).Single().Should().Be(0);
    }

    [SqliteOnlyFact(WhySqliteOnly)]
    public async Task CurrentDatabase_OpensAgain_WithNothingToDo()
    {
        await (await OpenAndWriteSettingAsync()).DisposeAsync();

        await using var store = new TcmStore(_folder.Path, NullLogger.Instance);

        store.Schema.Should().Be(new SchemaMigrationOutcome(TcmSchema.Definition.CurrentVersion, TcmSchema.Definition.CurrentVersion, AdoptedUnversioned: false));
        store.GetSetting("written").Should().Be("before reopening");
    }

    [SqliteOnlyFact(WhySqliteOnly)]
    public async Task DatabaseFromANewerVersion_IsRefusedWithAClearError_AndLeftUntouched()
    {
        await (await OpenAndWriteSettingAsync()).DisposeAsync();
        SqliteConnection.ClearAllPools();
        var newer = TcmSchema.Definition.CurrentVersion + 1;
        SqliteFile.SetUserVersion(DatabasePath, newer);

        var open = () => new TcmStore(_folder.Path, NullLogger.Instance);

        open.Should().Throw<StoreVersionException>()
            .WithMessage($"*{TcmStore.FileName} is at schema version {newer}, but this TCM knows versions up to {TcmSchema.Definition.CurrentVersion}*newer TCM*");
        SqliteConnection.ClearAllPools();
        SqliteFile.UserVersion(DatabasePath).Should().Be(newer);
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM settings WHERE key='written'";
        command.ExecuteScalar().Should().Be("before reopening");
    }

    private async Task<TcmStore> OpenAndWriteSettingAsync()
    {
        var store = new TcmStore(_folder.Path, NullLogger.Instance);
        await store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES('written', 'before reopening')"));
        return store;
    }

    private static void AssertOldDataIsThere(TcmStore store)
    {
        store.GetSetting("old-setting").Should().Be("kept");
        var agent = AgentRecord.FromStored(store.LoadAgents().Should().ContainSingle().Subject);
        (agent.Id, agent.ComputerName, agent.NextSeq, agent.AckedSeq).Should().Be((UnversionedNsDatabase.AgentId, UnversionedNsDatabase.ComputerName, 3L, 1L));
        agent.GetAttribute("site").Should().Be("hq");
        store.GetPushesAfter(UnversionedNsDatabase.AgentId, 0, int.MaxValue).Select(p => p.Seq).Should().Equal(1, 2);

        var action = new ActionLedger(store).Find(UnversionedNsDatabase.ActionId, _ => UnversionedNsDatabase.ComputerName);
        action.Should().NotBeNull();
        action!.Kind.Should().Be("task");
        action.CreatedAt.Should().Be(DateTimeOffset.FromUnixTimeMilliseconds(UnversionedNsDatabase.RegisteredAtMs));
        var target = action.Targets.Should().ContainSingle().Subject;
        (target.AgentId, target.State, target.DeliveredVia, target.Output, target.ExitCode, target.ResultCount)
            .Should().Be((UnversionedNsDatabase.AgentId, TaskState.Succeeded, "persistent", "PC-OLD", 0, 1));
    }
}
