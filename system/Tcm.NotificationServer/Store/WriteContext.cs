using Microsoft.Data.Sqlite;

namespace Tcm.NotificationServer.Store;

/// <summary>
/// What a write operation sees inside the batch transaction of <see cref="SqliteWriteBatcher"/>: commands with positional
/// parameters <c>@p0, @p1, ...</c>, prepared once per SQL text and reused across batches.
/// </summary>
internal sealed class WriteContext : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;

    public WriteContext(SqliteConnection connection) => _connection = connection;

    /// <summary>The transaction of the current batch.</summary>
    internal SqliteTransaction Transaction => _transaction ?? throw new InvalidOperationException("No batch is open.");

    internal void Begin(SqliteTransaction transaction) => _transaction = transaction;

    internal void End() => _transaction = null;

    /// <summary>Runs a statement; returns the number of rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<object?> args) => Prepare(sql, args).ExecuteNonQuery();

    /// <summary>Runs a query and maps each row.</summary>
    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> map, params ReadOnlySpan<object?> args)
    {
        using var reader = Prepare(sql, args).ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    private SqliteCommand Prepare(string sql, ReadOnlySpan<object?> args)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }

        command.Transaction = Transaction;
        var parameters = command.Parameters;
        for (var i = parameters.Count; i < args.Length; i++)
        {
            parameters.Add(new SqliteParameter(ParameterName(i), DBNull.Value));
        }

        for (var i = 0; i < args.Length; i++)
        {
            parameters[i].Value = args[i] ?? DBNull.Value;
        }

        return command;
    }

    private static string ParameterName(int index) => index switch
    {
        0 => "@p0", 1 => "@p1", 2 => "@p2", 3 => "@p3", 4 => "@p4", 5 => "@p5", 6 => "@p6", 7 => "@p7", 8 => "@p8", 9 => "@p9",
        _ => "@p" + index.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
    }
}
