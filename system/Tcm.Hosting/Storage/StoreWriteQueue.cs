using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Tcm.Hosting.Storage;

/// <summary>
/// The single writer of a store (a SQLite file, or a PostgreSQL database the Notification Server uses). Writes are queued and drained by one loop that runs as many as are waiting (up to
/// <see cref="MaxBatch"/>) in one transaction, each in its own savepoint so one that throws is rolled back alone and its caller
/// gets its exception. A write's task completes only after its transaction committed: callers that acknowledge something to
/// an agent await it first. A transaction that fails as a whole fails all its callers, and the loop goes on.
/// <para>
/// With a <see cref="GatherWindow"/>, a batch that found other writes already waiting (so writes are arriving faster than the
/// loop commits them) waits that long for more before it runs: every commit writes each page it changed to the WAL, and a
/// burst of small writes (a fan-out's results) touches the same few pages, so fewer, larger transactions write far fewer
/// frames. A lone write on a quiet store is committed at once.
/// </para>
/// <para>
/// With a <see cref="StoreRetryPolicy"/> (a database other processes write too), a batch whose transaction failed on a conflict with
/// another writer (a deadlock, a serialization failure) is run again, all of it, after a short random wait, a bounded number of
/// times: so a write may run more than once, and what it takes from memory it must take once (the last run's changes are the ones
/// kept). Only when the retries are spent do its callers fail, with <see cref="StoreConflictException"/>.
/// </para>
/// <para>
/// With an <see cref="IStatementPipeline"/> (a database server, where a round trip costs more than a statement), the savepoints go to it
/// and travel with the writes' own statements, and what a write held back is sent when it returns, its failure the write's.
/// </para>
/// <para>With <see cref="HoldWhile"/>, writes that may wait (<see cref="WriteWhenIdleAsync"/>) wait while the process is busier.</para>
/// </summary>
/// <typeparam name="TContext">What a write sees: the store's statements, bound to the batch's transaction.</typeparam>
public sealed partial class StoreWriteQueue<TContext> : IAsyncDisposable
{
    private readonly TContext _context;
    private readonly Action<DbTransaction?> _bind;
    private readonly Lock? _connectionGate;
    private readonly ILogger _logger;
    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private readonly KeyValuePair<string, object?> _storeTag;
    private readonly TimeProvider _gatherClock;
    private readonly WriterConnection _connection;
    private readonly IWriteOutcomes? _outcomes;
    private readonly StoreRetryPolicy? _retry;
    private readonly IStatementPipeline? _pipeline;
    private readonly Action? _endWrite;
    private long _transactions;
    private long _retries;
    private long _operations;

    /// <summary>Starts the writer.</summary>
    /// <param name="connection">The connection the writes run on.</param>
    /// <param name="context">What each write is given.</param>
    /// <param name="bind">Points the context's statements at the batch's transaction (null after it).</param>
    /// <param name="maxBatch">Most writes in one transaction.</param>
    /// <param name="logger">Where failed transactions and failed posted writes are reported.</param>
    /// <param name="connectionGate">A lock the store also takes for its other use of <paramref name="connection"/>, held for a whole batch; null when the connection is the writer's alone.</param>
    /// <param name="gatherWindow">How long a batch that found writes waiting waits for more (see <see cref="GatherWindow"/>); zero: not at all.</param>
    /// <param name="gatherClock">The clock of <paramref name="gatherWindow"/>; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="opened">
    /// For a database server: prepares a connection the writer opened again after it broke (a server restart, a network cut), before the
    /// next batch runs on it; null for a file, whose connection does not break.
    /// </param>
    /// <param name="storeName">The store's tag on the instruments; by default the file name of <paramref name="connection"/>'s data source.</param>
    /// <param name="retry">When a batch that failed on a conflict with another writer is run again; null: never (a file only this process writes).</param>
    /// <param name="pipeline">Where the savepoints go and held-back statements are sent (see <see cref="IStatementPipeline"/>); by default <paramref name="context"/> when it is one.</param>
    public StoreWriteQueue(
        DbConnection connection,
        TContext context,
        Action<DbTransaction?> bind,
        int maxBatch,
        ILogger logger,
        Lock? connectionGate = null,
        TimeSpan gatherWindow = default,
        TimeProvider? gatherClock = null,
        Action<DbConnection>? opened = null,
        string? storeName = null,
        StoreRetryPolicy? retry = null,
        IStatementPipeline? pipeline = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gatherWindow, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(bind);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _context = context;
        _outcomes = context as IWriteOutcomes;
        _bind = bind;
        MaxBatch = maxBatch;
        _logger = logger;
        _connectionGate = connectionGate;
        GatherWindow = gatherWindow;
        _gatherClock = gatherClock ?? TimeProvider.System;
        _pipeline = pipeline ?? context as IStatementPipeline;
        _endWrite = _pipeline is null ? null : _pipeline.EndWrite;
        _connection = new WriterConnection(connection, opened, _pipeline);
        _retry = retry;
        _storeTag = new("store", storeName ?? Path.GetFileNameWithoutExtension(connection.DataSource));
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Most writes in one transaction.</summary>
    public int MaxBatch { get; }

    /// <summary>How long a batch that found other writes already waiting waits for more before it runs; zero: it runs at once.</summary>
    public TimeSpan GatherWindow { get; }

    /// <summary>Transactions committed so far.</summary>
    public long TransactionCount => Interlocked.Read(ref _transactions);

    /// <summary>Batches run again after a conflict with another writer (see <see cref="StoreRetryPolicy"/>), so far.</summary>
    public long RetryCount => Interlocked.Read(ref _retries);

    /// <summary>Writes committed so far (including those rolled back alone in a committed transaction).</summary>
    public long OperationCount => Interlocked.Read(ref _operations);

    /// <summary>
    /// Queues a write; the task completes with its result once the transaction it ran in committed, with its own exception
    /// if it threw. A write cancelled before it is queued is not run; once queued, it runs.
    /// Throws <see cref="ObjectDisposedException"/> when the store is closed.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<TContext, T> write, CancellationToken cancellationToken = default) => Enqueue(write, mayWait: false, cancellationToken);

    private Task<T> Enqueue<T>(Func<TContext, T> write, bool mayWait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        var item = new Write<T>(write) { MayWait = mayWait, QueuedAt = mayWait ? _gatherClock.GetTimestamp() : 0 };
        if (!_queue.Writer.TryWrite(item))
        {
            throw new ObjectDisposedException(GetType().Name, "The store is closed.");
        }

        return item.Task;
    }

    /// <summary>Queues a write without a result.</summary>
    public Task WriteAsync(Action<TContext> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        return WriteAsync(context =>
        {
            write(context);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Queues a write nobody waits for; a failure is logged with <paramref name="what"/>, <paramref name="committed"/> (if any) runs once
    /// the write is committed.
    /// </summary>
    public void Post(Action<TContext> write, string what, Action? committed = null)
    {
        Task task;
        try
        {
            task = WriteAsync(write, CancellationToken.None);
        }
        catch (ObjectDisposedException ex)
        {
            Log.PostedWriteFailed(_logger, what, ex);
            return;
        }

        if (task.IsCompletedSuccessfully)
        {
            committed?.Invoke();
            return;
        }

        _ = task.ContinueWith(
            static (t, state) =>
            {
                var (logger, description, committed) = ((ILogger, string, Action?))state!;
                if (t.IsCompletedSuccessfully)
                {
                    committed?.Invoke();
                }
                else if (t.Exception is { } failure)
                {
                    Log.PostedWriteFailed(logger, description, failure.GetBaseException());
                }
            },
            (_logger, what, committed),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task RunAsync()
    {
        var batch = new List<Write>(64);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            Take(reader, batch);
            var held = await HoldAsync(reader, batch).ConfigureAwait(false);
            if (!held && batch.Count > 1 && batch.Count < MaxBatch && GatherWindow > TimeSpan.Zero)
            {
                await Task.Delay(GatherWindow, _gatherClock).ConfigureAwait(false);
                Take(reader, batch);
            }

            var failure = await RunWithRetriesAsync(batch).ConfigureAwait(false);
            Report(failure);

            foreach (var write in batch)
            {
                write.Complete(failure);
            }

            AfterHeld(reader, held && failure is null ? batch.Count : 0);
            batch.Clear();
        }
    }

    // why: the batch's outcome, null when it committed; every exception is caught, so the writer never dies with callers waiting.
    private async Task<Exception?> RunWithRetriesAsync(List<Write> batch)
    {
        for (var retry = 0; ; retry++)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                RunBatch(batch);
                StoreInstruments.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, _storeTag);
                StoreInstruments.BatchSize.Record(batch.Count, _storeTag);
                Interlocked.Increment(ref _transactions);
                Interlocked.Add(ref _operations, batch.Count);
                return null;
            }
            catch (Exception ex) when (_retry is not null && _retry.IsConflict(ex))
            {
                if (retry >= _retry.MaxRetries)
                {
                    var failure = new StoreConflictException(batch.Count, retry + 1, ex);
                    Log.BatchFailed(_logger, batch.Count, failure);
                    return failure;
                }

                // why: nothing of the transaction was kept; the writes run again from the start, on a new transaction.
                Report(ex);
                Interlocked.Increment(ref _retries);
                StoreInstruments.Retries.Add(1, _storeTag);
                Log.BatchRetried(_logger, batch.Count, retry + 1, ex.Message);
                await Task.Delay(_retry.DelayBefore(retry), _retry.Clock).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // why: nothing of the transaction was kept.
                Log.BatchFailed(_logger, batch.Count, ex);
                return ex;
            }
        }
    }

    private void Report(Exception? failure)
    {
        if (_outcomes is null)
        {
            return;
        }

        try
        {
            if (failure is null)
            {
                _outcomes.Committed();
            }
            else
            {
                _outcomes.Abandoned();
            }
        }
        catch (Exception ex)
        {
            // why: every exception, so the writer never dies; the transaction's fate is already decided.
            Log.OutcomeFailed(_logger, ex);
        }
    }

    private void Take(ChannelReader<Write> reader, List<Write> batch)
    {
        while (batch.Count < MaxBatch && reader.TryRead(out var write))
        {
            batch.Add(write);
        }
    }

    private void RunBatch(List<Write> batch)
    {
        _connectionGate?.Enter();
        try
        {
            using var transaction = _connection.BeginTransaction();
            _bind(transaction);
            try
            {
                if (batch.Count == 1)
                {
                    // why: a lone write needs no savepoint (two statements each): when it throws, the transaction holds nothing else.
                    _outcomes?.WriteStarting();
                    if (batch[0].Run(_context, _retry?.IsConflict, _endWrite))
                    {
                        Commit(transaction);
                    }
                    else
                    {
                        // why: disposing the transaction rolls it back; an explicit rollback on a server connection that broke under the
                        // write would throw, and its caller would get that instead of the write's own error.
                        _outcomes?.WriteUndone();
                    }

                    return;
                }

                _connection.Bind(transaction);
                foreach (var write in batch)
                {
                    _connection.Begin();
                    _outcomes?.WriteStarting();
                    if (!write.Run(_context, _retry?.IsConflict, _endWrite))
                    {
                        _outcomes?.WriteUndone();
                        _connection.RollBack();
                    }

                    _connection.Release();
                }

                Commit(transaction);
            }
            finally
            {
                _pipeline?.Abandon();
                _bind(null);
                _connection.Bind(null);
            }
        }
        finally
        {
            _connectionGate?.Exit();
        }
    }

    private void Commit(DbTransaction transaction)
    {
        _outcomes?.Committing();
        _pipeline?.Committing();
        transaction.Commit();
    }

    /// <summary>Refuses new writes, and waits until the queued ones are committed.</summary>
    public async ValueTask DisposeAsync()
    {
        _closing = true;
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _connection.Dispose();
    }

    /// <summary>
    /// What the writer does on its connection: each batch's transaction, and the savepoint each write of a batch runs in, as three
    /// statements prepared once (the same text on SQLite and PostgreSQL). Why not <see cref="DbTransaction.Save"/>: SQLite's compiles its
    /// statement on every call, and a fan-out's results pay two of them per result. With a <paramref name="pipeline"/>, the savepoints are its.
    /// On SQLite without one they run on SQLite's own prepared statements (<see cref="SqliteStatements"/>): a <see cref="SqliteCommand"/>
    /// allocates a data reader and a statement enumerator on every run, and two runs per write made the savepoints a twentieth of the
    /// bytes a Notification Server allocated in a 2,000-agent fan-out (docs/benchmarks.md, issue 15, branch h29-ns).
    /// </summary>
    private sealed class WriterConnection(DbConnection connection, Action<DbConnection>? opened, IStatementPipeline? pipeline) : IDisposable
    {
        private readonly SqliteStatements? _sqlite = pipeline is null && connection is SqliteConnection sqlite ? new SqliteStatements(sqlite) : null;
        private readonly DbCommand _begin = Command(connection, "SAVEPOINT write");
        private readonly DbCommand _rollBack = Command(connection, "ROLLBACK TO SAVEPOINT write");
        private readonly DbCommand _release = Command(connection, "RELEASE SAVEPOINT write");

        /// <summary>Begins a batch's transaction; first opens again (and prepares) a server connection that broke.</summary>
        public DbTransaction BeginTransaction()
        {
            if (opened is not null && connection.State != ConnectionState.Open)
            {
                // why: a server's connection that broke fails every batch until it is opened again; what failed was not kept.
                connection.Close();
                connection.Open();
                opened(connection);
            }

            return connection.BeginTransaction();
        }

        public void Bind(DbTransaction? transaction) => _begin.Transaction = _rollBack.Transaction = _release.Transaction = transaction;

        public void Begin() => Run(_begin, static p => p.Savepoint());

        public void RollBack() => Run(_rollBack, static p => p.RollBack());

        public void Release() => Run(_release, static p => p.Release());

        public void Dispose()
        {
            _sqlite?.Dispose();
            _begin.Dispose();
            _rollBack.Dispose();
            _release.Dispose();
        }

        private void Run(DbCommand command, Action<IStatementPipeline> piped)
        {
            if (pipeline is null)
            {
                _ = _sqlite?.Execute(command.CommandText) ?? command.ExecuteNonQuery();
            }
            else
            {
                piped(pipeline);
            }
        }

        private static DbCommand Command(DbConnection connection, string sql)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            return command;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Error, Message = "A store transaction of {Count} writes failed to commit")]
        public static partial void BatchFailed(ILogger logger, int count, Exception exception);

        [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "A background store write failed: {What}")]
        public static partial void PostedWriteFailed(ILogger logger, string what, Exception exception);

        [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "A store transaction of {Count} writes met a conflict with another writer and runs again (retry {Retry}): {Reason}")]
        public static partial void BatchRetried(ILogger logger, int count, int retry, string reason);

        [LoggerMessage(EventId = 203, Level = LogLevel.Error, Message = "A store's write context failed to take the outcome of a transaction")]
        public static partial void OutcomeFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "The store's work after a held batch of writes failed")]
        public static partial void AfterHeldFailed(ILogger logger, Exception exception);
    }
}
