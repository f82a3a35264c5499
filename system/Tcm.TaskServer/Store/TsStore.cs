using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Hosting.Storage;

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
internal sealed class TsStore : IDisposable, IWriteOutcomes
{
    internal const string FileName = "ts.db";

    /// <summary>Most writes committed together.</summary>
    private const int MaxBatch = 512;

    /// <summary>
    /// How long a batch of the writer that found other writes waiting waits for more (as the NS's store). Why: a fan-out's results and
    /// acknowledgements arrive a few per millisecond, and without it the writer committed them a handful at a time, each commit writing
    /// the same pages to the WAL again (file writes 15% and SQLite 12% of the Task Server's CPU in a fan-out's profile); a result's
    /// acknowledgement waits that much longer, against round trips of hundreds of milliseconds.
    /// </summary>
    internal static readonly TimeSpan WriteGatherWindow = TimeSpan.FromMilliseconds(4);

    /// <summary>Longest wait at dispose for the writes already queued.</summary>
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(10);

    private readonly SqliteConnection _connection;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    // why: a fan-out runs the same few statements tens of thousands of times; each is parsed once and reused (under _gate).
    private readonly SqliteStatements _statements;
    private readonly StoreWriteQueue<TsStore> _writer;
    private IWriteOutcomes? _outcomes;

    public TsStore(string dataDirectory, TimeProvider? time = null, ILogger? logger = null)
    {
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.Combine(dataDirectory, FileName);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        _connection.Open();
        _statements = new SqliteStatements(_connection);
        try
        {
            // why: as the NS's store: a checkpoint every 8,192 WAL pages instead of 1,000 (each copies every page the fan-outs touched
            // into the file and syncs it), and a larger cache and a mapped file for the pages the writes read again.
            // why temp_store=MEMORY: each write of the single writer runs in a savepoint, and SQLite keeps the savepoint's undo record
            // (the sub-journal: the page number and old content of every page the write changes) in memory only up to 64 KiB, then in
            // a temporary file. In a fan-out's profile those file writes were 83% of the Task Server's pwrite64 calls (6.8 per task,
            // against 1.3 for the WAL and its checkpoints). The sub-journal only undoes a write inside its own transaction and is never
            // read after a crash (the WAL is what commits), so keeping it in memory changes nothing the store promises.
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=8192; PRAGMA temp_store=MEMORY;");
            Schema = SchemaMigrator.Migrate(_connection, TsSchema.Definition);
        }
        catch
        {
            // why: a refused or failed migration must not leave the file open (and locked) behind the failed start.
            _statements.Dispose();
            _connection.Dispose();
            throw;
        }

        // why: the gather on the real clock, not the injected one: it only decides how writes share a commit, and a test's fake clock
        // would hold the store's commits until the test advanced it.
        _writer = new StoreWriteQueue<TsStore>(_connection, this, transaction => _statements.Transaction = (SqliteTransaction?)transaction, MaxBatch, logger ?? NullLogger.Instance, _gate,
            WriteGatherWindow, TimeProvider.System);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction shared with the other writes queued meanwhile; completes once that
    /// transaction is committed (with <paramref name="work"/>'s exception, its own changes rolled back, if it threw).
    /// </summary>
    public Task<T> WriteAsync<T>(Func<TsStore, T> work, CancellationToken cancellationToken = default) => _writer.WriteAsync(work, cancellationToken);

    /// <summary>Queues a write nobody waits for (see <see cref="StoreWriteQueue{TContext}.Post"/>); <paramref name="committed"/> runs after its commit.</summary>
    public void Post(Action<TsStore> write, string what, Action? committed = null) => _writer.Post(write, what, committed);

    /// <summary>
    /// Tells <paramref name="outcomes"/> what became of each write of the single writer (the writer's loop calls the store, its context).
    /// Why: the outbox publishes what a write added only once it committed (<see cref="Agents.TsOutbox"/>). One observer; set before writes start.
    /// </summary>
    public void ObserveWrites(IWriteOutcomes outcomes) => _outcomes = outcomes;

    void IWriteOutcomes.WriteStarting() => _outcomes?.WriteStarting();

    void IWriteOutcomes.WriteUndone() => _outcomes?.WriteUndone();

    void IWriteOutcomes.Committed() => _outcomes?.Committed();

    void IWriteOutcomes.Abandoned() => _outcomes?.Abandoned();

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>What opening the store did to its schema.</summary>
    public SchemaMigrationOutcome Schema { get; }

    /// <summary>Runs a statement; returns the rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<object?> args)
    {
        lock (_gate)
        {
            return _statements.Execute(sql, args);
        }
    }

    /// <summary>Runs several statements in one transaction.</summary>
    public T InTransaction<T>(Func<TsStore, T> work)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            _statements.Transaction = transaction;
            try
            {
                var result = work(this);
                transaction.Commit();
                return result;
            }
            finally
            {
                _statements.Transaction = null;
            }
        }
    }

    /// <summary>Runs a query and maps each row.</summary>
    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> map, params ReadOnlySpan<object?> args)
    {
        lock (_gate)
        {
            return _statements.Query(sql, map, args);
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

    public void Dispose()
    {
        try
        {
            // why: the writes already queued are committed before the connection closes; their callers are waiting for them.
            _writer.DisposeAsync().AsTask().WaitAsync(DisposeTimeout, _time).Wait();
        }
        catch (AggregateException)
        {
            // Already reported to the writes' callers.
        }

        lock (_gate)
        {
            _statements.Dispose();
            _connection.Dispose();
        }
    }
}
