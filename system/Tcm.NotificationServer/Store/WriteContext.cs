using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Store;

/// <summary>
/// What a write sees inside the batch transaction of the store's <see cref="StoreWriteQueue{TContext}"/>: statements with
/// positional parameters <c>@p0, @p1, ...</c>, prepared once per SQL text and reused across batches, on SQLite or on PostgreSQL
/// (the same text on both). It also gathers the targets' state changes its writes made (<see cref="TcmStore.WatchTargetStates"/>)
/// and hands them on once they committed.
/// </summary>
internal sealed class WriteContext : IDisposable, IWriteOutcomes
{
    private readonly SqliteStatements? _sqlite;
    private readonly PostgresStatements? _postgres;
    private readonly List<TargetStateChange> _changes = [];
    private int _writeStart;
    private volatile bool _capturesTargetStates = true;
    private bool _batchCaptures;
    private bool? _sessionCaptures = true;

    private const string DropTargetStateTrigger = "DROP TRIGGER IF EXISTS temp.tcm_target_state";

    /// <summary>Writes on the SQLite file's writer connection, whose trigger the first batch creates (<see cref="TcmStore.TargetStateTrigger"/>).</summary>
    public WriteContext(SqliteConnection connection)
    {
        _sqlite = new SqliteStatements(connection);
        _sessionCaptures = false;
    }

    /// <summary>Writes on a PostgreSQL writer connection, whose targets' changes a trigger leaves in a temporary table (<see cref="PostgresTargetStates"/>).</summary>
    public WriteContext(NpgsqlConnection connection) => _postgres = new PostgresStatements(connection);

    /// <summary>
    /// Whether the writes capture targets' state changes (on at start). Off, the SQLite trigger is dropped (by the next batch) and the
    /// PostgreSQL one copies nothing; a write that started before it was turned on may still run without it (see <see cref="TcmStore.CaptureTargetStatesAsync"/>).
    /// </summary>
    internal bool CapturesTargetStates
    {
        get => _capturesTargetStates;
        set => _capturesTargetStates = value;
    }

    /// <summary>Points the statements at the batch's transaction (null after it).</summary>
    internal void Bind(DbTransaction? transaction)
    {
        if (_sqlite is not null)
        {
            _sqlite.Transaction = (SqliteTransaction?)transaction;
        }
        else
        {
            _postgres!.Transaction = (NpgsqlTransaction?)transaction;
        }

        _batchCaptures = CapturesTargetStates;
        if (transaction is not null && _sessionCaptures != _batchCaptures)
        {
            // why in the batch's transaction: a batch rolled back takes the setting (SQLite: the TEMP trigger) back with it, and the next
            // batch sets it again.
            if (_sqlite is not null)
            {
                _sqlite.Execute(_batchCaptures ? TcmStore.TargetStateTrigger : DropTargetStateTrigger);
            }
            else
            {
                PostgresTargetStates.SetCapture(_postgres!, _batchCaptures);
            }
        }
    }

    /// <summary>The writer opened its PostgreSQL connection again, prepared to capture (<see cref="PostgresTargetStates.PrepareWriter"/>).</summary>
    internal void SessionOpened() => _sessionCaptures = true;

    /// <summary>
    /// Runs a statement that returns no rows and whose row count the write reads later (the function): on SQLite at once; on PostgreSQL
    /// it is held back (<see cref="PostgresStatements.DeferCount"/>) and travels with the write's next read, so both take one round trip.
    /// </summary>
    public Func<int> DeferCount(string sql, params ReadOnlySpan<object?> args)
    {
        if (_postgres is not null)
        {
            return _postgres.DeferCount(sql, args);
        }

        var count = _sqlite!.Execute(sql, args);
        return () => count;
    }

    /// <summary>Whether the statements go to PostgreSQL (else the SQLite file), for a write whose best form differs (one statement over arrays).</summary>
    public bool IsPostgres => _postgres is not null;

    /// <summary>The writer's pipeline on PostgreSQL (its savepoints, the statements held back); null on SQLite.</summary>
    internal IStatementPipeline? Pipeline => _postgres;

    /// <summary>Runs a statement; returns the number of rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<object?> args) => _sqlite is not null ? _sqlite.Execute(sql, args) : _postgres!.Execute(sql, args);

    /// <summary>
    /// Runs a statement that returns no rows and whose row count the write does not read: on SQLite at once; on PostgreSQL it may be held
    /// back and sent with the write's next statement, or when the write returns (<see cref="PostgresStatements.Defer"/>). Either way it
    /// is part of the write: its failure fails the write, and a later statement of the write sees its changes.
    /// </summary>
    public void Defer(string sql, params ReadOnlySpan<object?> args)
    {
        if (_sqlite is not null)
        {
            _sqlite.Execute(sql, args);
        }
        else
        {
            _postgres!.Defer(sql, args);
        }
    }

    /// <summary>Runs one statement that returns rows (a <c>SELECT</c>, or a change with <c>RETURNING</c>) and maps each row.</summary>
    public List<T> Query<T>(string sql, Func<StatementRow, T> map, params ReadOnlySpan<object?> args) =>
        _sqlite is not null ? _sqlite.Rows(sql, map, args) : _postgres!.Rows(sql, map, args);

    /// <summary>Who hears the targets' state changes after their transaction committed; called on the writer's loop.</summary>
    internal Action<IReadOnlyList<TargetStateChange>>? TargetStatesCommitted { get; set; }

    /// <summary>A state change the store's trigger saw in the write now running.</summary>
    internal void TargetStateWritten(TargetStateChange change) => _changes.Add(change);

    void IWriteOutcomes.WriteStarting() => _writeStart = _changes.Count;

    void IWriteOutcomes.WriteUndone() => _changes.RemoveRange(_writeStart, _changes.Count - _writeStart);

    void IWriteOutcomes.Committing()
    {
        // why: PostgreSQL's trigger cannot call back into this process; it leaves the batch's changes in a temporary table that is read
        // (and emptied) here, inside the transaction, so a write rolled back to its savepoint left nothing there.
        _sessionCaptures = _batchCaptures;
        if (_postgres is not null)
        {
            if (_batchCaptures)
            {
                PostgresTargetStates.Take(_postgres, _changes);
            }
        }
    }

    void IWriteOutcomes.Committed()
    {
        if (_changes.Count == 0)
        {
            return;
        }

        TargetStateChange[] committed = [.. _changes];
        _changes.Clear();
        TargetStatesCommitted?.Invoke(committed);
    }

    void IWriteOutcomes.Abandoned()
    {
        _changes.Clear();
        _sessionCaptures = null;
    }

    public void Dispose()
    {
        _sqlite?.Dispose();
        _postgres?.Dispose();
    }
}
