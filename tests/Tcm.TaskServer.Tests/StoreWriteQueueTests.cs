using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Tcm.Hosting.Storage;

namespace Tcm.TaskServer.Tests;

/// <summary>The servers' single SQLite writer, on an in-memory database: batching, savepoints, failures, cancellation and closing.</summary>
public sealed class StoreWriteQueueTests : IAsyncLifetime
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");
    private readonly SqliteStatements _statements;
    private readonly RecordingLogger _logger = new();
    private Func<SqliteTransaction?, bool> _bindFails = _ => false;

    public StoreWriteQueueTests()
    {
        _connection.Open();
        _statements = new SqliteStatements(_connection);
        _statements.Execute("CREATE TABLE t(k TEXT PRIMARY KEY)");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _statements.Dispose();
        await _connection.DisposeAsync();
    }

    [Fact]
    public async Task QueuedWrites_ShareTransactions_OfAtMostMaxBatch()
    {
        var queue = Create(maxBatch: 4);

        var writes = Enumerable.Range(0, 40).Select(i => queue.WriteAsync(s => s.Execute("INSERT INTO t(k) VALUES(@p0)", $"k{i}"))).ToList();
        await Task.WhenAll(writes);
        await queue.DisposeAsync();

        queue.OperationCount.Should().Be(40);
        queue.TransactionCount.Should().BeInRange(10, 40, "no transaction holds more than four writes");
        Count().Should().Be(40);
    }

    [Fact]
    public async Task AWriteThatThrows_IsRolledBackAlone_AndItsCallerGetsItsException()
    {
        await using var queue = Create(maxBatch: 100);
        var gate = new TaskCompletionSource();
        var blocker = queue.WriteAsync(_ => gate.Task.Wait(TimeSpan.FromSeconds(10)));
        var before = queue.WriteAsync(s => s.Execute("INSERT INTO t(k) VALUES('before')"));
        var failing = queue.WriteAsync<int>(s =>
        {
            s.Execute("INSERT INTO t(k) VALUES('half-done')");
            throw new ArgumentException("the write's own failure");
        });
        var after = queue.WriteAsync(s => s.Execute("INSERT INTO t(k) VALUES('after')"));
        gate.SetResult();

        await blocker;
        (await before).Should().Be(1);
        (await after).Should().Be(1);
        await FluentActions.Awaiting(() => failing).Should().ThrowAsync<ArgumentException>().WithMessage("the write's own failure");
        Count("half-done").Should().Be(0);
        Count().Should().Be(2);
    }

    [Fact]
    public async Task SavepointsOnSqlitesOwnStatements_RollBackAWriteWhoseStatementFailed_BatchAfterBatch()
    {
        // The savepoints run on statements prepared once (not a command per run): each is stepped, reset and stepped again in every
        // batch, after a rollback to it too, and a write whose own statement SQLite refused (a duplicate key) leaves nothing behind.
        await using var queue = Create(maxBatch: 100);
        for (var round = 0; round < 3; round++)
        {
            var gate = new TaskCompletionSource();
            var blocker = queue.WriteAsync(_ => gate.Task.Wait(TimeSpan.FromSeconds(10)));
            var kept = queue.WriteAsync(s => s.Execute("INSERT INTO t(k) VALUES(@p0)", $"kept-{round}"));
            var refused = queue.WriteAsync(s =>
            {
                s.Execute("INSERT INTO t(k) VALUES(@p0)", $"half-done-{round}");
                return s.Execute("INSERT INTO t(k) VALUES(@p0)", $"kept-{round}");
            });
            var after = queue.WriteAsync(s => s.Execute("INSERT INTO t(k) VALUES(@p0)", $"after-{round}"));
            gate.SetResult();

            await blocker;
            (await kept).Should().Be(1);
            (await after).Should().Be(1);
            await FluentActions.Awaiting(() => refused).Should().ThrowAsync<SqliteException>();
            Count($"half-done-{round}").Should().Be(0, "the refused write is rolled back to its savepoint, in round {0}", round);
        }

        Count().Should().Be(6);
        queue.TransactionCount.Should().BeGreaterThanOrEqualTo(3);
    }

    [Fact]
    public async Task ATransactionThatFails_FailsAllItsCallers_AndTheWriterGoesOn()
    {
        await using var queue = Create(maxBatch: 100);
        _bindFails = transaction => transaction is not null;
        var failed = queue.WriteAsync(s => s.Execute("INSERT INTO t(k) VALUES('lost')"));

        await FluentActions.Awaiting(() => failed).Should().ThrowAsync<InvalidOperationException>().WithMessage("the disk is gone");
        _bindFails = _ => false;
        (await queue.WriteAsync(s => s.Execute("INSERT INTO t(k) VALUES('kept')"))).Should().Be(1);

        Count("lost").Should().Be(0);
        Count("kept").Should().Be(1);
        _logger.Errors.Should().ContainSingle();
    }

    [Fact]
    public async Task AWriteCancelledBeforeItIsQueued_IsNotRun()
    {
        await using var queue = Create(maxBatch: 10);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var write = queue.WriteAsync(s => s.Execute("INSERT INTO t(k) VALUES('never')"), cancelled.Token);

        await FluentActions.Awaiting(() => write).Should().ThrowAsync<OperationCanceledException>();
        await queue.WriteAsync(_ => 0);
        Count("never").Should().Be(0);
    }

    [Fact]
    public async Task AfterDispose_AWriteIsRefused_AndAPostedWriteIsLogged()
    {
        var queue = Create(maxBatch: 10);
        var queued = queue.WriteAsync(s => s.Execute("INSERT INTO t(k) VALUES('queued')"));
        await queue.DisposeAsync();

        (await queued).Should().Be(1, "writes queued before closing are committed");
        Action write = () => queue.WriteAsync(_ => 0);
        write.Should().Throw<ObjectDisposedException>();
        queue.Post(_ => { }, "late write");
        _logger.Errors.Should().ContainSingle().Which.Should().Contain("late write");
    }

    private StoreWriteQueue<SqliteStatements> Create(int maxBatch) =>
        new(_connection, _statements, transaction =>
        {
            if (_bindFails((SqliteTransaction?)transaction))
            {
                throw new InvalidOperationException("the disk is gone");
            }

            _statements.Transaction = (SqliteTransaction?)transaction;
        }, maxBatch, _logger);

    private long Count(string? key = null) => key is null
        ? _statements.Query("SELECT COUNT(*) FROM t", r => r.GetInt64(0)).Single()
        : _statements.Query("SELECT COUNT(*) FROM t WHERE k=@p0", r => r.GetInt64(0), key).Single();

    private sealed class RecordingLogger() : TestLogger(LogLevel.Error)
    {
        private readonly List<string> _errors = [];

        public IReadOnlyList<string> Errors
        {
            get
            {
                lock (_errors)
                {
                    return [.. _errors];
                }
            }
        }

        protected override void Write<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_errors)
            {
                _errors.Add(formatter(state, exception));
            }
        }
    }
}
