using System.Globalization;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Tcm.Storage;

namespace Tcm.TaskServer.Store;

/// <summary>
/// The Task Server's store: one SQLite file (<c>ts.db</c>, WAL) in the data folder. Holds the registered agents and their push
/// sequence, the pushes until acknowledged, the keys of results received (once each), and the outbox of statuses and results not yet
/// forwarded to the NS (store and forward). Statements are short and serialised on one connection.
/// <para>
/// The hot writes (acknowledgements, statuses, results: one each per agent per task) go through <see cref="WriteAsync"/>: a
/// single writer commits whatever is queued in one transaction (each write in its own savepoint, so one that throws is rolled
/// back alone) and completes the callers only after the commit. A fan-out to 10,000 agents is then a few dozen commits, not
/// 30,000.
/// </para>
/// </summary>
internal sealed class TsStore : IDisposable
{
    internal const string FileName = "ts.db";

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    // why: a fan-out runs the same few statements tens of thousands of times; each is parsed once and reused (under _gate).
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;

    /// <summary>Most writes committed together.</summary>
    private const int MaxBatch = 512;

    private readonly Channel<PendingWrite> _writes = System.Threading.Channels.Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public TsStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.Combine(dataDirectory, FileName);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        _connection.Open();
        try
        {
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;");
            Schema = SchemaMigrator.Migrate(_connection, TsSchema.Definition);
        }
        catch
        {
            // why: a refused or failed migration must not leave the file open (and locked) behind the failed start.
            _connection.Dispose();
            throw;
        }

        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction shared with the other writes queued meanwhile; completes once that
    /// transaction is committed (with <paramref name="work"/>'s exception, its own changes rolled back, if it threw).
    /// </summary>
    public Task<T> WriteAsync<T>(Func<TsStore, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var pending = new PendingWrite<T>(work);
        if (!_writes.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(TsStore));
        }

        return pending.Task;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>What opening the store did to its schema.</summary>
    public SchemaMigrationOutcome Schema { get; }

    /// <summary>Runs a statement; returns the rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<object?> args)
    {
        lock (_gate)
        {
            return Prepare(sql, args).ExecuteNonQuery();
        }
    }

    /// <summary>Runs several statements in one transaction.</summary>
    public T InTransaction<T>(Func<TsStore, T> work)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            _transaction = transaction;
            try
            {
                var result = work(this);
                transaction.Commit();
                return result;
            }
            finally
            {
                _transaction = null;
            }
        }
    }

    /// <summary>Runs a query and maps each row.</summary>
    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> map, params ReadOnlySpan<object?> args)
    {
        lock (_gate)
        {
            using var reader = Prepare(sql, args).ExecuteReader();
            var rows = new List<T>();
            while (reader.Read())
            {
                rows.Add(map(reader));
            }

            return rows;
        }
    }

    /// <summary>Whether the store answers a query (health check).</summary>
    public bool IsOpen
    {
        get
        {
            try
            {
                return Query("SELECT 1", r => r.GetInt64(0)).FirstOrDefault() == 1;
            }
            catch (SqliteException)
            {
                return false;
            }
        }
    }

    private SqliteCommand Prepare(string sql, ReadOnlySpan<object?> args)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }

        command.Transaction = _transaction;
        var parameters = command.Parameters;
        for (var i = 0; i < args.Length; i++)
        {
            var value = args[i] ?? DBNull.Value;
            if (i < parameters.Count)
            {
                parameters[i].Value = value;
            }
            else
            {
                parameters.AddWithValue("@p" + i.ToString(CultureInfo.InvariantCulture), value);
            }
        }

        return command;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        while (await _writes.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _writes.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            try
            {
                InTransaction(s =>
                {
                    foreach (var write in batch)
                    {
                        s.Execute("SAVEPOINT write");
                        if (write.Run(s))
                        {
                            s.Execute("RELEASE write");
                        }
                        else
                        {
                            s.Execute("ROLLBACK TO write");
                            s.Execute("RELEASE write");
                        }
                    }

                    return 0;
                });
                foreach (var write in batch)
                {
                    write.Complete();
                }
            }
            catch (Exception ex)
            {
                // why: every exception, so the writer never dies with callers waiting. The transaction as a whole failed (disk,
                // closed store): nothing of it was kept, so no caller may proceed.
                foreach (var write in batch)
                {
                    write.Fail(ex);
                }
            }

            batch.Clear();
        }
    }

    public void Dispose()
    {
        _writes.Writer.TryComplete();
        try
        {
            _writer.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // Already reported to the writes' callers.
        }

        lock (_gate)
        {
            foreach (var command in _commands.Values)
            {
                command.Dispose();
            }

            _commands.Clear();
            _connection.Dispose();
        }
    }

    /// <summary>A queued write and its caller's completion.</summary>
    private abstract class PendingWrite
    {
        /// <summary>Runs the write; false when it threw (its exception is kept for the caller).</summary>
        public abstract bool Run(TsStore store);

        /// <summary>After the commit: the caller gets its result, or its own exception.</summary>
        public abstract void Complete();

        /// <summary>The shared transaction failed.</summary>
        public abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<TsStore, T> work) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _error;

        public Task<T> Task => _completion.Task;

        public override bool Run(TsStore store)
        {
            try
            {
                _result = work(store);
                _error = null;
                return true;
            }
            catch (Exception ex)
            {
                // why: any exception of the caller's work belongs to the caller; the batch goes on without its changes.
                _error = ex;
                return false;
            }
        }

        public override void Complete()
        {
            if (_error is not null)
            {
                _completion.TrySetException(_error);
            }
            else
            {
                _completion.TrySetResult(_result!);
            }
        }

        public override void Fail(Exception exception) => _completion.TrySetException(exception);
    }
}
