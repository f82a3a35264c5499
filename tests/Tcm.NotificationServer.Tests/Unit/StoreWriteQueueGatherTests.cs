using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>
/// The single writer's gather window (the Notification Server's store runs with one): writes that find others waiting wait for
/// more and share one commit; a lone write on a quiet store does not wait.
/// </summary>
public sealed class StoreWriteQueueGatherTests : IAsyncDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(4);

    private readonly SqliteConnection _connection = new("Data Source=:memory:");
    private readonly SqliteStatements _statements;
    private readonly TimerCountingTimeProvider _clock = new();
    private readonly StoreWriteQueue<SqliteStatements> _writer;

    public StoreWriteQueueGatherTests()
    {
        _connection.Open();
        _statements = new SqliteStatements(_connection);
        _statements.Execute("CREATE TABLE t(v TEXT)");
        _writer = new StoreWriteQueue<SqliteStatements>(
            _connection, _statements, transaction => _statements.Transaction = (SqliteTransaction?)transaction, maxBatch: 100, NullLogger.Instance, gatherWindow: Window, gatherClock: _clock);
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        _statements.Dispose();
        await _connection.DisposeAsync();
    }

    [Fact]
    public async Task WritesThatFoundOthersWaiting_WaitTheWindow_AndWritesArrivingMeanwhileShareTheirCommit()
    {
        using var running = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = _writer.WriteAsync(s =>
        {
            running.Set();
            release.Wait(Eventually.DefaultDeadline);
            return s.Execute("INSERT INTO t VALUES('first')");
        });
        await Eventually.WaitAsync(() => Task.FromResult(running.IsSet), set => set, Eventually.DefaultDeadline, "the first write to run");

        // Queued while the writer is busy: once it is free, it finds both waiting, so it waits for more.
        var queuedWhileBusy = new[] { Insert("b"), Insert("c") };
        release.Set();
        await first;
        var transactionsBefore = _writer.TransactionCount;
        await Eventually.WaitAsync(() => Task.FromResult(_clock.ActiveTimers), armed => armed == 1, Eventually.DefaultDeadline, "the gather window to start");
        queuedWhileBusy.Should().OnlyContain(t => !t.IsCompleted, "nothing commits before the window ends");

        var arrivedInTheWindow = Insert("d");
        _clock.Advance(Window);
        await Task.WhenAll([.. queuedWhileBusy, arrivedInTheWindow]).WaitAsync(Eventually.DefaultDeadline);

        (_writer.TransactionCount - transactionsBefore).Should().Be(1, "the writes found waiting and the one that came in the window share one commit");
        _statements.Query("SELECT COUNT(*) FROM t", r => r.GetInt64(0)).Single().Should().Be(4);
    }

    [Fact]
    public async Task ALoneWrite_IsCommittedAtOnce_WithoutWaitingTheWindow()
    {
        // The fake clock never moves: a lone write that waited the window would never commit.
        var inserted = await Insert("alone").WaitAsync(Eventually.DefaultDeadline);

        inserted.Should().Be(1);
        _clock.ActiveTimers.Should().Be(0);
    }

    private Task<int> Insert(string value) => _writer.WriteAsync(s => s.Execute("INSERT INTO t VALUES(@p0)", value));
}
