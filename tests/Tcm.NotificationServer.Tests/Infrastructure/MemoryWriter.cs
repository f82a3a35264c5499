using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>
/// A <see cref="StoreWriteQueue{TContext}"/> over an in-memory SQLite database holding one table, <c>t(v TEXT)</c>, for tests of the
/// writer itself (its gather window, its retries), with a way to keep it busy while a test queues writes behind it.
/// </summary>
internal sealed class MemoryWriter : IAsyncDisposable
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    /// <summary>A writer with the given gather window and retry policy.</summary>
    public MemoryWriter(TimeSpan gatherWindow = default, TimeProvider? gatherClock = null, StoreRetryPolicy? retry = null)
    {
        _connection.Open();
        Statements = new SqliteStatements(_connection);
        Statements.Execute("CREATE TABLE t(v TEXT)");
        Writer = new StoreWriteQueue<SqliteStatements>(
            _connection, Statements, transaction => Statements.Transaction = (SqliteTransaction?)transaction, maxBatch: 100, NullLogger.Instance,
            gatherWindow: gatherWindow, gatherClock: gatherClock, retry: retry);
    }

    public StoreWriteQueue<SqliteStatements> Writer { get; }

    /// <summary>The writer's statements: read what was committed (between writes).</summary>
    public SqliteStatements Statements { get; }

    /// <summary>Inserts <paramref name="value"/> into <c>t</c>.</summary>
    public Task<int> Insert(string value) => Writer.WriteAsync(s => s.Execute("INSERT INTO t VALUES(@p0)", value));

    /// <summary>The values in <c>t</c>, in order.</summary>
    public List<string> Values() => Statements.Query("SELECT v FROM t ORDER BY v", r => r.GetString(0));

    /// <summary>
    /// Runs a write that inserts <paramref name="value"/> and keeps the writer busy until <see cref="Hold.ReleaseAsync"/>: writes
    /// queued meanwhile find each other waiting when it is free. Returns once that write runs.
    /// </summary>
    public async Task<Hold> HoldAsync(string value)
    {
        var running = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        var write = Writer.WriteAsync(s =>
        {
            running.Set();
            release.Wait(Eventually.DefaultDeadline);
            return s.Execute("INSERT INTO t VALUES(@p0)", value);
        });
        await Eventually.WaitAsync(() => Task.FromResult(running.IsSet), set => set, Eventually.DefaultDeadline, "the holding write to run");
        return new Hold(write, running, release);
    }

    public async ValueTask DisposeAsync()
    {
        await Writer.DisposeAsync();
        Statements.Dispose();
        await _connection.DisposeAsync();
    }

    /// <summary>The write that keeps the writer busy.</summary>
    internal sealed class Hold(Task<int> write, ManualResetEventSlim running, ManualResetEventSlim release)
    {
        /// <summary>Lets the write finish and waits for its commit.</summary>
        public async Task ReleaseAsync()
        {
            release.Set();
            await write;
            running.Dispose();
            release.Dispose();
        }
    }
}
