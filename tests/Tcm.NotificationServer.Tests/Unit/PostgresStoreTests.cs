using Npgsql;
using Tcm.Hosting.Storage;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>The Notification Server's store on a PostgreSQL database: migrations, the single writer's guarantees, the captured target changes, two writers on one database.</summary>
public sealed class PostgresStoreTests : IAsyncDisposable
{
    private readonly List<TcmStore> _stores = [];
    private readonly PostgresTestDatabase? _database = PostgresTestDatabase.SkipReason is null ? new PostgresTestDatabase() : null;

    private PostgresTestDatabase Database => _database!;

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [PostgresFact]
    public async Task NewDatabase_IsMigratedToTheCurrentVersion_AndReopensWithoutMigrating()
    {
        var store = Open();
        store.IsPostgres.Should().BeTrue();
        store.Schema.Should().Be(new SchemaMigrationOutcome(0, TcmSchema.Definition.CurrentVersion, AdoptedUnversioned: false));
        store.IsOpen.Should().BeTrue();
        store.Path.Should().StartWith("postgresql://").And.NotContain("Password");
        await store.DisposeAsync();
        _stores.Remove(store);

        Open().Schema.Should().Be(new SchemaMigrationOutcome(TcmSchema.Definition.CurrentVersion, TcmSchema.Definition.CurrentVersion, AdoptedUnversioned: false));
        Database.Scalar("SELECT version FROM schema_version").Should().Be(TcmSchema.Definition.CurrentVersion);
    }

    [PostgresFact]
    public void DatabaseOfANewerTcm_IsRefused()
    {
        _ = Open();
        Database.Scalar($"UPDATE schema_version SET version = {TcmSchema.Definition.CurrentVersion + 1} RETURNING version");

        var open = () => Open();
        open.Should().Throw<StoreVersionException>().WithMessage("*database's tcm.db is at schema version*newer TCM*");
    }

    [PostgresFact]
    public async Task FailingWrite_FaultsOnlyItself_AndTheOthersOfItsBatchCommit() =>
        (await StoreWriterChecks.FailingWriteFaultsOnlyItselfAsync(Open())).Should().BeOfType<PostgresException>()
            .Which.SqlState.Should().Be(PostgresErrorCodes.UniqueViolation);

    [PostgresFact]
    public Task ManySmallWrites_ShareTransactions() => StoreWriterChecks.ManySmallWritesShareTransactionsAsync(Open());

    [PostgresFact]
    public async Task TargetChanges_AreHeardAfterCommit_NotOfAWriteThatThrew_NorAnUnchangedState()
    {
        var store = Open();
        var heard = new List<TargetStateChange>();
        store.WatchTargetStates(changes =>
        {
            lock (heard)
            {
                heard.AddRange(changes);
            }
        });
        await store.Writer.WriteAsync(ctx =>
        {
            ctx.Execute("INSERT INTO actions(id, kind, created_at) VALUES('a1', 'task', 1)");
            ctx.Execute("INSERT INTO action_targets(action_id, agent_id, status) VALUES('a1', 'x', 'pending'), ('a1', 'y', 'pending')");
        });

        var output = new string('o', TcmStore.ChangeOutputLimit + 10);
        var kept = store.Writer.WriteAsync(ctx => ctx.Execute(
            "UPDATE action_targets SET status='succeeded', output=@p0, result_count=result_count+1, exit_code=0 WHERE agent_id='x'", output));
        var undone = store.Writer.WriteAsync(ctx =>
        {
            ctx.Execute("UPDATE action_targets SET status='failed' WHERE agent_id='y'");
            throw new InvalidOperationException("the write gives up");
        });
        var unchanged = store.Writer.WriteAsync(ctx => ctx.Execute("UPDATE action_targets SET status='pending', delivered_via='http' WHERE agent_id='y'"));
        await kept;
        await FluentActions.Awaiting(() => undone).Should().ThrowAsync<InvalidOperationException>();
        await unchanged;

        lock (heard)
        {
            heard.Should().ContainSingle().Which.Should().BeEquivalentTo(new
            {
                ActionId = "a1",
                AgentId = "x",
                State = "succeeded",
                ExitCode = 0L,
                Output = output[..TcmStore.ChangeOutputLimit],
                OutputTruncated = true,
                ResultCount = 1L,
            });
        }
    }

    [PostgresFact]
    public async Task TargetChanges_WhileCaptureIsOff_AreNotHeard_NorLeftBehind_OnceOnAgain_AreHeard()
    {
        var store = Open();
        var heard = new System.Collections.Concurrent.ConcurrentQueue<string>();
        store.WatchTargetStates(changes =>
        {
            foreach (var change in changes)
            {
                heard.Enqueue(change.AgentId);
            }
        });
        await store.Writer.WriteAsync(ctx =>
        {
            ctx.Execute("INSERT INTO actions(id, kind, created_at) VALUES('a1', 'task', 1)");
            ctx.Execute("INSERT INTO action_targets(action_id, agent_id, status) VALUES('a1', 'x', 'pending'), ('a1', 'y', 'pending')");
        });

        await store.CaptureTargetStatesAsync(false, CancellationToken.None);
        await store.Writer.WriteAsync(ctx => ctx.Execute("UPDATE action_targets SET status='delivered' WHERE agent_id='x'"));
        await store.CaptureTargetStatesAsync(true, CancellationToken.None);
        await store.Writer.WriteAsync(ctx => ctx.Execute("UPDATE action_targets SET status='delivered' WHERE agent_id='y'"));

        heard.Should().Equal(["y"], "the change made while the capture was off is neither heard nor kept for a later batch");
    }

    [PostgresFact]
    public async Task TwoNodesOnOneDatabase_MigrateOnce_AndAResultIsStoredOncePerKey()
    {
        var opened = await Task.WhenAll(Task.Run(Open), Task.Run(Open));
        opened.Select(s => s.Schema.FromVersion).Should().Contain(0, "one node migrated").And.Contain(TcmSchema.Definition.CurrentVersion, "the other found it done");

        const string Insert = "INSERT INTO results(idempotency_key, agent_id, kind, ref_id, payload, received_at) VALUES(@p0,'x','task','a1','{}',1) ON CONFLICT DO NOTHING";
        var stored = await Task.WhenAll(opened.Select(s => s.Writer.WriteAsync(ctx => ctx.Execute(Insert, "key-1"))));

        stored.Sum().Should().Be(1, "the second node's insert of the same key stores nothing");
        Database.Scalar("SELECT COUNT(*) FROM results").Should().Be(1);
    }

    [PostgresFact]
    public async Task WriterWhoseConnectionWasCut_OpensItAgain_AndStillHearsTargetChanges()
    {
        var store = Open();
        var heard = 0;
        store.WatchTargetStates(changes => Interlocked.Add(ref heard, changes.Count));
        var pid = await store.Writer.WriteAsync(ctx => ctx.Query("SELECT pg_backend_pid()", r => r.GetInt64(0)).Single());
        Database.Scalar($"SELECT COUNT(*) FROM (SELECT pg_terminate_backend({pid})) t");

        // why: the first batch on the cut connection may fail (its callers are told); the writer must not stay broken.
        await Eventually.WaitAsync(
            async () =>
            {
                try
                {
                    return await store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO actions(id, kind, created_at) VALUES(@p0, 'task', 1)", "a-" + Guid.NewGuid()));
                }
                catch (NpgsqlException)
                {
                    return 0;
                }
            },
            inserted => inserted == 1,
            Eventually.DefaultDeadline,
            "a write after the cut");
        await store.Writer.WriteAsync(ctx =>
        {
            ctx.Execute("INSERT INTO action_targets(action_id, agent_id, status) SELECT id, 'x', 'pending' FROM actions");
            ctx.Execute("UPDATE action_targets SET status='delivered'");
        });

        Volatile.Read(ref heard).Should().BeGreaterThan(0);
    }

    private TcmStore Open()
    {
        var store = new TcmStore(Path.GetTempPath(), Database.ConnectionString, NullLogger.Instance);
        lock (_stores)
        {
            _stores.Add(store);
        }

        return store;
    }
}
