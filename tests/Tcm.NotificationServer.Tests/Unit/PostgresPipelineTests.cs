using Npgsql;
using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>
/// The PostgreSQL writer's pipeline (<see cref="PostgresStatements"/> as the <see cref="IStatementPipeline"/> of a
/// <see cref="StoreWriteQueue{TContext}"/>): statements held back travel with the next one that is read, and with the writes' savepoints,
/// in one round trip; the guarantees stay those of a statement sent at once: a read sees them, their failure is their write's (rolled back
/// alone, the batch goes on), and a batch run again after a conflict sends them once.
/// </summary>
public sealed class PostgresPipelineTests : IAsyncDisposable
{
    private const string Insert = "INSERT INTO t(v) VALUES(@p0)";

    private readonly OwnedResources _owned = new();
    private PostgresStatements _statements = null!;
    private StoreWriteQueue<PostgresStatements> _writer = null!;
    private string _connectionString = null!;
    private long _batchStart;

    [PostgresFact]
    public async Task AReadInTheWrite_SeesTheStatementsHeldBeforeIt_InTheSameRoundTrip()
    {
        await StartAsync();
        var before = _statements.RoundTrips;

        var (count, changed) = await _writer.WriteAsync(s =>
        {
            s.Defer(Insert, "a");
            s.Defer(Insert, "b");
            var count = s.Rows("SELECT count(*) FROM t", static r => r.GetInt64(0)).Single();
            s.Defer(Insert, "c");
            var changed = s.Execute("UPDATE t SET n = n + 1 WHERE v IN ('a', 'c')");
            return (count, changed);
        }).WaitAsync(Eventually.DefaultDeadline);

        count.Should().Be(2, "the read went after the two inserts held back");
        changed.Should().Be(2, "the update's count is its own, after the insert held back before it");
        (_statements.RoundTrips - before).Should().Be(2, "the held statements travelled with the read and with the update");
        Values().Should().Equal("a:1", "b:0", "c:1");
    }

    [PostgresFact]
    public async Task AHeldCount_IsKnownOnceItTravelledWithARead_OrSendsItsStatementWhenReadFirst()
    {
        await StartAsync();
        var before = _statements.RoundTrips;

        var (travelled, alone) = await _writer.WriteAsync(s =>
        {
            var inserted = s.DeferCount("INSERT INTO t(v) VALUES('a') ON CONFLICT DO NOTHING");
            s.Rows("SELECT 1", static r => r.GetInt64(0));
            var repeated = s.DeferCount("INSERT INTO t(v) VALUES('a') ON CONFLICT DO NOTHING");
            return (inserted(), repeated());
        }).WaitAsync(Eventually.DefaultDeadline);

        travelled.Should().Be(1);
        alone.Should().Be(0, "the second insert met the first's row, and reading its count sent it");
        (_statements.RoundTrips - before).Should().Be(2);
    }

    [PostgresFact]
    public async Task WritesOfABatchThatOnlyHoldStatements_TakeOneRoundTripEach_SavepointsIncluded()
    {
        await StartAsync();
        var writes = await InOneBatchAsync([.. Enumerable.Range(0, 3).Select(i => (Action<PostgresStatements>)(s =>
        {
            s.Defer(Insert, $"w{i}");
            s.Defer("UPDATE t SET n = n + 1 WHERE v = @p0", $"w{i}");
        }))]);

        await Task.WhenAll(writes).WaitAsync(Eventually.DefaultDeadline);

        (_statements.RoundTrips - _batchStart).Should().Be(3, "one per write: its savepoint, the release before it and its two statements travel together, the last release not at all");
        Values().Should().Equal("held:0", "w0:1", "w1:1", "w2:1");
    }

    [PostgresFact]
    public async Task AHeldStatementThatFails_FailsItsWrite_WhoseOtherChangesAreRolledBack_AndTheBatchGoesOn()
    {
        await StartAsync();
        var writes = await InOneBatchAsync(
            s => s.Defer(Insert, "first"),
            s =>
            {
                s.Execute(Insert, "sent-then-undone");
                s.Defer(Insert, "first");
            },
            s => s.Defer(Insert, "last"));
        var (first, failing, last) = (writes[0], writes[1], writes[2]);

        var failure = await failing.Awaiting(w => w.WaitAsync(Eventually.DefaultDeadline)).Should().ThrowAsync<PostgresException>();
        failure.Which.SqlState.Should().Be("23505", "the held insert repeated a key, and that failure is its write's");
        await Task.WhenAll(first, last).WaitAsync(Eventually.DefaultDeadline);
        Values().Should().Equal("first:0", "held:0", "last:0");
    }

    [PostgresFact]
    public async Task AWriteThatThrowsBeforeSendingAnything_DropsWhatItHeld_AndKeepsTheWriteBefore()
    {
        await StartAsync();
        var seen = -1L;
        var writes = await InOneBatchAsync(
            s => s.Defer(Insert, "kept"),
            s =>
            {
                s.Defer(Insert, "dropped");
                throw new InvalidOperationException("the write's own failure");
            },
            s => seen = s.Rows("SELECT count(*) FROM t WHERE v = 'dropped'", static r => r.GetInt64(0)).Single());

        await writes[1].Awaiting(w => w.WaitAsync(Eventually.DefaultDeadline)).Should().ThrowAsync<InvalidOperationException>();
        await Task.WhenAll(writes[0], writes[2]).WaitAsync(Eventually.DefaultDeadline);
        seen.Should().Be(0, "the statement held by the write that threw was never sent");
        Values().Should().Equal("held:0", "kept:0");
    }

    [PostgresFact]
    public async Task ALoneWriteWhoseHeldStatementFails_FailsAndKeepsNothing()
    {
        await StartAsync();
        await _writer.WriteAsync(s => s.Defer(Insert, "one")).WaitAsync(Eventually.DefaultDeadline);

        var failing = _writer.WriteAsync(s =>
        {
            s.Defer(Insert, "two");
            s.Defer(Insert, "one");
        });

        await failing.Awaiting(w => w.WaitAsync(Eventually.DefaultDeadline)).Should().ThrowAsync<PostgresException>();
        Values().Should().Equal("one:0");
        (await _writer.WriteAsync(s => s.Execute(Insert, "three")).WaitAsync(Eventually.DefaultDeadline))
            .Should().Be(1, "the writer goes on after the failed transaction");
    }

    [PostgresFact]
    public async Task ABatchRunAgainAfterAConflict_SendsItsHeldStatementsOnce()
    {
        await StartAsync(StoreRetryPolicy.PostgreSql with { FirstDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(1) });
        var runs = 0;

        await _writer.WriteAsync(s =>
        {
            runs++;
            s.Defer(Insert, "once");
            s.Defer("UPDATE t SET n = n + 1 WHERE v = 'once'");
            if (runs == 1)
            {
                // why a real conflict's code from the server's side of a held statement: the batch must run again, not fail.
                s.Execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$");
            }
        }).WaitAsync(Eventually.DefaultDeadline);

        runs.Should().Be(2);
        _writer.RetryCount.Should().Be(1);
        Values().Should().Equal("once:1");
    }

    public ValueTask DisposeAsync() => _owned.DisposeAsync();

    private async Task StartAsync(StoreRetryPolicy? retry = null)
    {
        var database = await TestPostgres.CreateDatabaseAsync("tcm_pipeline");
        _owned.Own(database);
        _connectionString = database.ConnectionString;
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        _owned.Own(connection);
        await using (var command = new NpgsqlCommand("CREATE TABLE t(v TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0)", connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        _statements = new PostgresStatements(connection);
        _writer = new StoreWriteQueue<PostgresStatements>(
            connection, _statements, transaction => _statements.Transaction = (NpgsqlTransaction?)transaction, maxBatch: 10, NullLogger.Instance,
            retry: retry ?? StoreRetryPolicy.PostgreSql);
        _owned.Own(_writer);
    }

    // Queues the writes while a first write holds the writer, so they run in one batch after it; their tasks, in order.
    private async Task<Task[]> InOneBatchAsync(params Action<PostgresStatements>[] writes)
    {
        var hold = await HoldAsync();
        _batchStart = _statements.RoundTrips;
        var tasks = writes.Select(write => _writer.WriteAsync(write)).ToArray();
        hold.Set();
        return tasks;
    }

    private async Task<ManualResetEventSlim> HoldAsync()
    {
        var running = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        _ = _writer.WriteAsync(s =>
        {
            s.Execute("INSERT INTO t(v) VALUES('held')");
            running.Set();
            release.Wait(Eventually.DefaultDeadline);
        });
        await Eventually.WaitAsync(() => Task.FromResult(running.IsSet), set => set, Eventually.DefaultDeadline, "the holding write to run");
        return release;
    }

    private List<string> Values()
    {
        using var connection = new NpgsqlConnection(_connectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT v || ':' || n FROM t ORDER BY v", connection);
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
