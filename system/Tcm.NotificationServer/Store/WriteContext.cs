using Microsoft.Data.Sqlite;
using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Store;

/// <summary>
/// What a write sees inside the batch transaction of the store's <see cref="SqliteWriteQueue{TContext}"/>: statements with
/// positional parameters <c>@p0, @p1, ...</c>, prepared once per SQL text and reused across batches. It also gathers the
/// targets' state changes its writes made (<see cref="TcmStore.WatchTargetStates"/>) and hands them on once they committed.
/// </summary>
internal sealed class WriteContext : IDisposable, IWriteOutcomes
{
    private readonly SqliteStatements _statements;
    private readonly List<TargetStateChange> _changes = [];
    private int _writeStart;

    public WriteContext(SqliteConnection connection) => _statements = new SqliteStatements(connection);

    /// <summary>The transaction of the current batch.</summary>
    internal SqliteTransaction Transaction => _statements.Transaction ?? throw new InvalidOperationException("No batch is open.");

    /// <summary>Points the statements at the batch's transaction (null after it).</summary>
    internal void Bind(SqliteTransaction? transaction) => _statements.Transaction = transaction;

    /// <summary>Runs a statement; returns the number of rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<object?> args) => _statements.Execute(sql, args);

    /// <summary>Runs one statement that returns rows (a <c>SELECT</c>, or a change with <c>RETURNING</c>) and maps each row.</summary>
    public List<T> Query<T>(string sql, Func<StatementRow, T> map, params ReadOnlySpan<object?> args) => _statements.Rows(sql, map, args);

    /// <summary>Who hears the targets' state changes after their transaction committed; called on the writer's loop.</summary>
    internal Action<IReadOnlyList<TargetStateChange>>? TargetStatesCommitted { get; set; }

    /// <summary>A state change the store's trigger saw in the write now running.</summary>
    internal void TargetStateWritten(TargetStateChange change) => _changes.Add(change);

    void IWriteOutcomes.WriteStarting() => _writeStart = _changes.Count;

    void IWriteOutcomes.WriteUndone() => _changes.RemoveRange(_writeStart, _changes.Count - _writeStart);

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

    void IWriteOutcomes.Abandoned() => _changes.Clear();

    public void Dispose() => _statements.Dispose();
}
