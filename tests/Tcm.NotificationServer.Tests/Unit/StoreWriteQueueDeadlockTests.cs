using Npgsql;
using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>
/// Two writers of one PostgreSQL database (two nodes' store writers) made to deadlock: each locks one row, then waits for the other's.
/// PostgreSQL aborts one transaction (SQLSTATE 40P01); its writer runs the batch again and both callers get their results.
/// </summary>
public sealed class StoreWriteQueueDeadlockTests : IAsyncDisposable
{
    private readonly OwnedResources _owned = new();

    [PostgresFact]
    public async Task TwoWritersDeadlocked_TheOneAbortedRunsAgain_AndBothWritesAreKept()
    {
        var database = await TestPostgres.CreateDatabaseAsync("tcm_deadlock");
        _owned.Own(database);
        await using (var setup = new NpgsqlConnection(database.ConnectionString))
        {
            await setup.OpenAsync();
            await using var command = new NpgsqlCommand("CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER NOT NULL); INSERT INTO t VALUES (1, 0), (2, 0);", setup);
            await command.ExecuteNonQueryAsync();
        }

        var one = await WriterAsync(database.ConnectionString);
        var two = await WriterAsync(database.ConnectionString);
        using var oneLocked = new ManualResetEventSlim();
        using var twoLocked = new ManualResetEventSlim();

        // Each write's first run takes its own row, then waits until the other took its row, then wants it: a deadlock.
        var first = one.WriteAsync(Crossing(first: 1, second: 2, locked: oneLocked, other: twoLocked));
        var second = two.WriteAsync(Crossing(first: 2, second: 1, locked: twoLocked, other: oneLocked));

        var runs = await Task.WhenAll(first, second).WaitAsync(Eventually.DefaultDeadline);

        (one.RetryCount + two.RetryCount).Should().Be(1, "PostgreSQL aborts one of the two, which runs again");
        runs.Should().BeEquivalentTo(new[] { 1, 2 }, "the aborted write ran twice, the other once");
        await using var check = new NpgsqlConnection(database.ConnectionString);
        await check.OpenAsync();
        await using var sum = new NpgsqlCommand("SELECT SUM(v) FROM t", check);
        Convert.ToInt64(await sum.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture).Should().Be(4, "both writes' two updates were kept, once each");
    }

    // why: the writers first (they hold connections to the database), then the database.
    public ValueTask DisposeAsync() => _owned.DisposeAsync();

    private static Func<PostgresStatements, int> Crossing(int first, int second, ManualResetEventSlim locked, ManualResetEventSlim other)
    {
        var runs = 0;
        return s =>
        {
            runs++;
            s.Execute("UPDATE t SET v = v + 1 WHERE id = @p0", first);
            if (runs == 1)
            {
                locked.Set();
                other.Wait(Eventually.DefaultDeadline).Should().BeTrue("the other writer took its row");
            }

            s.Execute("UPDATE t SET v = v + 1 WHERE id = @p0", second);
            return runs;
        };
    }

    private async Task<StoreWriteQueue<PostgresStatements>> WriterAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        _owned.Own(connection);
        var statements = new PostgresStatements(connection);
        var writer = new StoreWriteQueue<PostgresStatements>(
            connection, statements, transaction => statements.Transaction = (NpgsqlTransaction?)transaction, maxBatch: 10, NullLogger.Instance,
            retry: StoreRetryPolicy.PostgreSql);
        _owned.Own(writer);
        return writer;
    }
}
