using Microsoft.Data.Sqlite;
using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Store;

/// <summary>
/// What a write sees inside the batch transaction of the store's <see cref="SqliteWriteQueue{TContext}"/>: statements with
/// positional parameters <c>@p0, @p1, ...</c>, prepared once per SQL text and reused across batches.
/// </summary>
internal sealed class WriteContext : IDisposable
{
    private readonly SqliteStatements _statements;

    public WriteContext(SqliteConnection connection) => _statements = new SqliteStatements(connection);

    /// <summary>The transaction of the current batch.</summary>
    internal SqliteTransaction Transaction => _statements.Transaction ?? throw new InvalidOperationException("No batch is open.");

    /// <summary>Points the statements at the batch's transaction (null after it).</summary>
    internal void Bind(SqliteTransaction? transaction) => _statements.Transaction = transaction;

    /// <summary>Runs a statement; returns the number of rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<object?> args) => _statements.Execute(sql, args);

    /// <summary>Runs one statement that returns rows (a <c>SELECT</c>, or a change with <c>RETURNING</c>) and maps each row.</summary>
    public List<T> Query<T>(string sql, Func<StatementRow, T> map, params ReadOnlySpan<object?> args) => _statements.Rows(sql, map, args);

    public void Dispose() => _statements.Dispose();
}
