using System.Data.Common;
using System.Globalization;
using Npgsql;

namespace Tcm.Hosting.Storage;

/// <summary>
/// Statements on one PostgreSQL connection with the parameters <c>@p0, @p1, ...</c> that <see cref="SqliteStatements"/> takes, so a
/// write runs the same text on either engine. One command per SQL text, kept and reused; Npgsql prepares a text on the server once it
/// has run a few times (<c>Max Auto Prepare</c>). Not thread-safe: the owner serialises use.
/// </summary>
public sealed class PostgresStatements : IDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly Dictionary<string, NpgsqlCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>Statements on <paramref name="connection"/>.</summary>
    public PostgresStatements(NpgsqlConnection connection) => _connection = connection;

    /// <summary>The transaction statements run in; null outside one.</summary>
    public NpgsqlTransaction? Transaction { get; set; }

    /// <summary>Runs a statement; returns the number of rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<object?> args) => Command(sql, args).ExecuteNonQuery();

    /// <summary>Runs one statement that returns rows (a <c>SELECT</c>, or a change with <c>RETURNING</c>) and maps each row.</summary>
    public List<T> Rows<T>(string sql, Func<StatementRow, T> map, params ReadOnlySpan<object?> args)
    {
        ArgumentNullException.ThrowIfNull(map);
        using var reader = Command(sql, args).ExecuteReader();
        var rows = new List<T>();
        var row = new StatementRow(reader);
        while (reader.Read())
        {
            rows.Add(map(row));
        }

        return rows;
    }

    /// <summary>
    /// Gives <paramref name="command"/> the values <paramref name="args"/> as <c>@p0, @p1, ...</c>, as a store binds them on either
    /// engine: null is NULL, and a flag is the integer 1 or 0 (SQLite has no other booleans, so the schema's flags are integers).
    /// </summary>
    public static void Bind(DbCommand command, ReadOnlySpan<object?> args)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameters = command.Parameters;
        for (var i = parameters.Count; i < args.Length; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@p" + i.ToString(CultureInfo.InvariantCulture);
            parameters.Add(parameter);
        }

        for (var i = 0; i < args.Length; i++)
        {
            parameters[i].Value = args[i] switch
            {
                null => DBNull.Value,
                bool flag => flag ? 1L : 0L,
                var value => value,
            };
        }
    }

    private NpgsqlCommand Command(string sql, ReadOnlySpan<object?> args)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = new NpgsqlCommand(sql, _connection);
            _commands[sql] = command;
        }

        command.Transaction = Transaction;
        Bind(command, args);
        return command;
    }

    /// <summary>Disposes the commands (not the connection).</summary>
    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
    }
}
