using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Tcm.Hosting.Storage;

/// <summary>
/// Statements on one SQLite connection with positional parameters <c>@p0, @p1, ...</c>, each SQL text prepared once and
/// reused (a fan-out runs the same few statements tens of thousands of times). Not thread-safe: the owner serialises use.
/// <para>
/// A single statement whose values are text, integers, reals, blobs or null runs on SQLite's own prepared statement (bound, stepped and
/// reset in place); anything else (several statements in one text, other value types) runs through a reused <see cref="SqliteCommand"/>.
/// Why: a <see cref="SqliteCommand"/> allocates a reader, a statement enumerator and a binder per value on every execution, which made
/// Microsoft.Data.Sqlite the largest allocator of a Notification Server fan-out (a third of its bytes) and much of its store CPU.
/// </para>
/// </summary>
public sealed class SqliteStatements : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Prepared?> _prepared = new(StringComparer.Ordinal);

    /// <summary>Statements on <paramref name="connection"/>.</summary>
    public SqliteStatements(SqliteConnection connection) => _connection = connection;

    /// <summary>The transaction statements run in; null outside one.</summary>
    public SqliteTransaction? Transaction { get; set; }

    /// <summary>Runs a statement; returns the number of rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<object?> args)
    {
        if (Find(sql) is { } prepared && prepared.TryBind(args))
        {
            return prepared.Run<object?>(null, null);
        }

        return Command(sql, args).ExecuteNonQuery();
    }

    /// <summary>Runs a query and maps each row.</summary>
    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> map, params ReadOnlySpan<object?> args)
    {
        ArgumentNullException.ThrowIfNull(map);
        using var reader = Command(sql, args).ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>
    /// Runs one statement that returns rows (a <c>SELECT</c>, or a change with <c>RETURNING</c>) on SQLite's prepared statement and maps
    /// each row. Throws <see cref="NotSupportedException"/> for a text or values only <see cref="Query{T}"/> runs.
    /// </summary>
    public List<T> Rows<T>(string sql, Func<StatementRow, T> map, params ReadOnlySpan<object?> args)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (Find(sql) is not { } prepared || !prepared.TryBind(args))
        {
            throw new NotSupportedException($"'{sql}' is not one statement with text, integer, real, blob or null values; use Query");
        }

        var rows = new List<T>();
        prepared.Run(rows, map);
        return rows;
    }

    private Prepared? Find(string sql)
    {
        if (!_prepared.TryGetValue(sql, out var prepared))
        {
            prepared = Prepared.TryCreate(_connection.Handle!, sql, out var settled);
            if (settled)
            {
                _prepared[sql] = prepared;
            }
        }

        return prepared;
    }

    private SqliteCommand Command(string sql, ReadOnlySpan<object?> args)
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

    /// <summary>Disposes the prepared statements and commands (not the connection).</summary>
    public void Dispose()
    {
        foreach (var prepared in _prepared.Values)
        {
            prepared?.Dispose();
        }

        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _prepared.Clear();
        _commands.Clear();
    }

    /// <summary>One statement prepared by SQLite, with the position of each <c>@pN</c> among its parameters.</summary>
    private sealed class Prepared : IDisposable
    {
        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _statement;
        private readonly int[] _positions;

        private Prepared(sqlite3 db, sqlite3_stmt statement, int[] positions)
        {
            _db = db;
            _statement = statement;
            _positions = positions;
        }

        /// <summary>
        /// The statement, or null when <paramref name="sql"/> is not one statement over <c>@p0 ... @pN</c> or does not prepare (the command
        /// then runs it or reports why). <paramref name="settled"/>: the answer holds for good; not after an error, which a later schema may cure.
        /// </summary>
        public static Prepared? TryCreate(sqlite3 db, string sql, out bool settled)
        {
            var rc = raw.sqlite3_prepare_v2(db, sql, out var statement, out var tail);
            settled = rc == raw.SQLITE_OK;
            if (rc != raw.SQLITE_OK || statement.IsInvalid || !string.IsNullOrWhiteSpace(tail))
            {
                statement?.Dispose();
                return null;
            }

            var count = raw.sqlite3_bind_parameter_count(statement);
            var positions = new int[count];
            for (var position = 1; position <= count; position++)
            {
                var name = raw.sqlite3_bind_parameter_name(statement, position).utf8_to_string();
                if (name is null || !name.StartsWith("@p", StringComparison.Ordinal)
                    || !int.TryParse(name.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= count)
                {
                    statement.Dispose();
                    return null;
                }

                positions[index] = position;
            }

            return new Prepared(db, statement, positions);
        }

        /// <summary>Binds <paramref name="args"/>; false (nothing bound) when one has a type this path does not bind, or one is missing.</summary>
        public bool TryBind(ReadOnlySpan<object?> args)
        {
            if (args.Length < _positions.Length)
            {
                return false;
            }

            for (var i = 0; i < _positions.Length; i++)
            {
                if (args[i] is not (null or DBNull or string or long or int or bool or double or byte[]))
                {
                    return false;
                }
            }

            for (var i = 0; i < _positions.Length; i++)
            {
                Check(Bind(_statement, _positions[i], args[i]));
            }

            return true;
        }

        /// <summary>Steps to the end, giving each row to <paramref name="map"/> (if any); returns the rows changed; leaves the statement reset.</summary>
        public int Run<T>(List<T>? rows, Func<StatementRow, T>? map)
        {
            try
            {
                int rc;
                while ((rc = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
                {
                    if (map is not null)
                    {
                        rows!.Add(map(new StatementRow(_statement)));
                    }
                }

                Check(rc, raw.SQLITE_DONE);
                return raw.sqlite3_stmt_readonly(_statement) != 0 ? -1 : raw.sqlite3_changes(_db);
            }
            finally
            {
                raw.sqlite3_reset(_statement);
            }
        }

        public void Dispose() => _statement.Dispose();

        // why: an empty text or blob from an empty span would be bound as a null pointer, which SQLite takes for NULL.
        private static int Bind(sqlite3_stmt statement, int position, object? value) => value switch
        {
            null or DBNull => raw.sqlite3_bind_null(statement, position),
            string { Length: 0 } => raw.sqlite3_bind_text(statement, position, string.Empty),
            string text => raw.sqlite3_bind_text16(statement, position, text),
            long number => raw.sqlite3_bind_int64(statement, position, number),
            int number => raw.sqlite3_bind_int64(statement, position, number),
            bool flag => raw.sqlite3_bind_int64(statement, position, flag ? 1 : 0),
            double real => raw.sqlite3_bind_double(statement, position, real),
            byte[] { Length: 0 } => raw.sqlite3_bind_zeroblob(statement, position, 0),
            byte[] blob => raw.sqlite3_bind_blob(statement, position, blob),
            _ => throw new ArgumentException($"cannot bind a {value.GetType().Name}", nameof(value)),
        };

        private void Check(int rc, int expected = raw.SQLITE_OK)
        {
            if (rc != expected)
            {
                SqliteException.ThrowExceptionForRC(rc, _db);
                throw new InvalidOperationException($"SQLite returned {rc} where {expected} was expected");
            }
        }
    }
}

/// <summary>
/// The current row of a statement run by <see cref="SqliteStatements.Rows{T}"/> (SQLite's own statement) or
/// <see cref="PostgresStatements.Rows{T}"/> (a data reader): valid only inside the map.
/// </summary>
public readonly struct StatementRow
{
    private readonly sqlite3_stmt? _statement;
    private readonly DbDataReader? _reader;

    internal StatementRow(sqlite3_stmt statement) => _statement = statement;

    internal StatementRow(DbDataReader reader) => _reader = reader;

    /// <summary>Whether column <paramref name="ordinal"/> is NULL.</summary>
    public bool IsDBNull(int ordinal) => _reader is null ? raw.sqlite3_column_type(_statement, ordinal) == raw.SQLITE_NULL : _reader.IsDBNull(ordinal);

    /// <summary>Column <paramref name="ordinal"/> as an integer.</summary>
    public long GetInt64(int ordinal) => _reader is null ? raw.sqlite3_column_int64(_statement, ordinal) : _reader.GetInt64(ordinal);

    /// <summary>Column <paramref name="ordinal"/> as text.</summary>
    public string GetString(int ordinal) => _reader is null ? raw.sqlite3_column_text(_statement, ordinal).utf8_to_string() : _reader.GetString(ordinal);
}
