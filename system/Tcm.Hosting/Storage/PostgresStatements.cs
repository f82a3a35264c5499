using System.Data.Common;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Tcm.Hosting.Storage;

/// <summary>
/// Statements on one PostgreSQL connection with the parameters <c>@p0, @p1, ...</c> that <see cref="SqliteStatements"/> takes, so a
/// write runs the same text on either engine. One command per SQL text, kept and reused; Npgsql prepares a text on the server once it
/// has run a few times (<c>Max Auto Prepare</c>). Not thread-safe: the owner serialises use.
/// <para>
/// A statement whose outcome the write does not read (<see cref="Defer"/>) is held back and sent in one <see cref="NpgsqlBatch"/> with
/// the next statement whose outcome is read (<see cref="Execute"/>, <see cref="Rows{T}"/>), or when the write ends
/// (<see cref="IStatementPipeline"/>): one round trip instead of one per statement. Why: on PostgreSQL a statement's cost is mostly its
/// round trip (two kernels' loopback TCP, the writer's thread parked until the answer), where SQLite's is a call in this process.
/// Statements are sent in the order they were given, so a read sees every change held back before it.
/// </para>
/// </summary>
public sealed class PostgresStatements : IDisposable, IStatementPipeline
{
    private const string SavepointSql = "SAVEPOINT write";
    private const string ReleaseSql = "RELEASE SAVEPOINT write";

    // why: a list of blobs (a fan-out's payloads) is one bytea[], not a two-dimensional array of bytes.
    private const NpgsqlDbType BlobArray = NpgsqlDbType.Array | NpgsqlDbType.Bytea;

    private readonly NpgsqlConnection _connection;
    private readonly Dictionary<string, NpgsqlCommand> _commands = new(StringComparer.Ordinal);
    private readonly NpgsqlBatch _held;

    // why: the position of the running write's savepoint among the held statements, -1 once it was sent (or when there is none): a
    // write that fails before anything of it was sent is undone by dropping what it held, without a round trip.
    private int _savepointAt = -1;

    /// <summary>Statements on <paramref name="connection"/>.</summary>
    public PostgresStatements(NpgsqlConnection connection)
    {
        _connection = connection;
        _held = new NpgsqlBatch(connection);
    }

    /// <summary>The transaction statements run in; null outside one.</summary>
    public NpgsqlTransaction? Transaction { get; set; }

    /// <summary>Statements held back, not yet sent.</summary>
    public int HeldCount => _held.BatchCommands.Count;

    /// <summary>Round trips to the server so far (a batch of statements counts once).</summary>
    public long RoundTrips { get; private set; }

    /// <summary>
    /// Holds back a statement that returns no rows and whose row count nobody reads: it is sent, in order, with the next statement that
    /// is read, or by <see cref="Flush"/>. Its failure surfaces there (and fails the write that is running).
    /// </summary>
    public void Defer(string sql, params ReadOnlySpan<object?> args)
    {
        var command = new NpgsqlBatchCommand(sql);
        Fill(command.Parameters, args);
        _held.BatchCommands.Add(command);
    }

    /// <summary>
    /// Holds back a statement that returns no rows and whose row count the write reads later: the count is known once it was sent (with
    /// the next statement that is read); reading it before sends it then.
    /// </summary>
    public Func<int> DeferCount(string sql, params ReadOnlySpan<object?> args)
    {
        Defer(sql, args);
        var command = _held.BatchCommands[^1];
        return () =>
        {
            if (_held.BatchCommands.Contains(command))
            {
                Flush();
            }

            return command.RecordsAffected;
        };
    }

    /// <summary>Sends every statement held back, in one round trip (none when nothing is held).</summary>
    public void Flush()
    {
        if (HeldCount > 0)
        {
            Send(static batch => batch.ExecuteNonQuery());
        }
    }

    /// <summary>Runs a statement (after those held back, in the same round trip); returns the number of rows it changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<object?> args)
    {
        if (HeldCount == 0)
        {
            RoundTrips++;
            return Command(sql, args).ExecuteNonQuery();
        }

        Defer(sql, args);
        var last = _held.BatchCommands[^1];
        Send(static batch => batch.ExecuteNonQuery());
        return last.RecordsAffected;
    }

    /// <summary>
    /// Runs one statement that returns rows (a <c>SELECT</c>, or a change with <c>RETURNING</c>), after those held back and in the same
    /// round trip, and maps each row.
    /// </summary>
    public List<T> Rows<T>(string sql, Func<StatementRow, T> map, params ReadOnlySpan<object?> args)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (HeldCount == 0)
        {
            RoundTrips++;
            using var reader = Command(sql, args).ExecuteReader();
            return Read(reader, map);
        }

        Defer(sql, args);
        // why: the statements held back return no rows, so the reader's one result is this statement's.
        return Send(batch =>
        {
            using var reader = batch.ExecuteReader();
            return Read(reader, map);
        });
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
            parameter.ParameterName = ParameterName(i);
            parameters.Add(parameter);
        }

        for (var i = 0; i < args.Length; i++)
        {
            parameters[i].Value = Value(args[i]);
            if (args[i] is byte[][] && parameters[i] is NpgsqlParameter blobs)
            {
                blobs.NpgsqlDbType = BlobArray;
            }
        }
    }

    void IStatementPipeline.Savepoint()
    {
        _savepointAt = HeldCount;
        Defer(SavepointSql);
    }

    void IStatementPipeline.EndWrite() => Flush();

    void IStatementPipeline.RollBack()
    {
        if (_savepointAt >= 0)
        {
            // why: nothing of the write reached the server; what was held before it (an earlier write's release) stays.
            while (HeldCount > _savepointAt)
            {
                _held.BatchCommands.RemoveAt(HeldCount - 1);
            }

            // why: the savepoint again (sent with the next statement), for the release that follows to end.
            _savepointAt = -1;
            Defer(SavepointSql);
            return;
        }

        _held.BatchCommands.Clear();
        RoundTrips++;
        Command("ROLLBACK TO SAVEPOINT write", []).ExecuteNonQuery();
    }

    void IStatementPipeline.Release() => Defer(ReleaseSql);

    void IStatementPipeline.Committing()
    {
        if (HeldCount > 0 && _held.BatchCommands[^1].CommandText == ReleaseSql)
        {
            _held.BatchCommands.RemoveAt(HeldCount - 1);
        }

        Flush();
    }

    void IStatementPipeline.Abandon()
    {
        _held.BatchCommands.Clear();
        _savepointAt = -1;
    }

    /// <summary>Disposes the commands (not the connection).</summary>
    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        _held.Dispose();
    }

    private T Send<T>(Func<NpgsqlBatch, T> run)
    {
        RoundTrips++;
        _held.Transaction = Transaction;
        try
        {
            return run(_held);
        }
        finally
        {
            // why: sent, or failed (the transaction, or the write's savepoint, is rolled back): either way nothing held is sent again.
            _held.BatchCommands.Clear();
            _savepointAt = -1;
        }
    }

    private static List<T> Read<T>(NpgsqlDataReader reader, Func<StatementRow, T> map)
    {
        var rows = new List<T>();
        var row = new StatementRow(reader);
        while (reader.Read())
        {
            rows.Add(map(row));
        }

        return rows;
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

    private static void Fill(NpgsqlParameterCollection parameters, ReadOnlySpan<object?> args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var parameter = new NpgsqlParameter { ParameterName = ParameterName(i), Value = Value(args[i]) };
            if (args[i] is byte[][])
            {
                parameter.NpgsqlDbType = BlobArray;
            }

            parameters.Add(parameter);
        }
    }

    private static object Value(object? arg) => arg switch
    {
        null => DBNull.Value,
        bool flag => flag ? 1L : 0L,
        var value => value,
    };

    private static string ParameterName(int index) => "@p" + index.ToString(CultureInfo.InvariantCulture);
}
