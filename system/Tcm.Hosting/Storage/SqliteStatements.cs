using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tcm.Hosting.Storage;

/// <summary>
/// Statements on one SQLite connection with positional parameters <c>@p0, @p1, ...</c>, each SQL text prepared once and
/// reused (a fan-out runs the same few statements tens of thousands of times). Not thread-safe: the owner serialises use.
/// </summary>
public sealed class SqliteStatements : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>Statements on <paramref name="connection"/>.</summary>
    public SqliteStatements(SqliteConnection connection) => _connection = connection;

    /// <summary>The transaction statements run in; null outside one.</summary>
    public SqliteTransaction? Transaction { get; set; }

    /// <summary>Runs a statement; returns the number of rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<object?> args) => Prepare(sql, args).ExecuteNonQuery();

    /// <summary>Runs a query and maps each row.</summary>
    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> map, params ReadOnlySpan<object?> args)
    {
        ArgumentNullException.ThrowIfNull(map);
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
        _ => "@p" + index.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Disposes the prepared commands (not the connection).</summary>
    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
    }
}
