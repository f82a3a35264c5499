using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tcm.TaskServer.Store;

/// <summary>
/// The Task Server's store: one SQLite file (<c>ts.db</c>, WAL) in the data folder. Holds the registered agents and their push
/// sequence, the pushes until acknowledged, the keys of results received (once each), and the outbox of statuses and results not yet
/// forwarded to the NS (store and forward). Statements are short and serialised on one connection.
/// </summary>
internal sealed class TsStore : IDisposable
{
    internal const string FileName = "ts.db";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS agents(id TEXT PRIMARY KEY, registered_at INTEGER NOT NULL, next_seq INTEGER NOT NULL DEFAULT 1, acked_seq INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS pushes(
            agent_id TEXT NOT NULL, seq INTEGER NOT NULL, action_id TEXT NOT NULL, payload BLOB NOT NULL, created_at INTEGER NOT NULL,
            PRIMARY KEY(agent_id, seq)) WITHOUT ROWID;
        CREATE UNIQUE INDEX IF NOT EXISTS pushes_action ON pushes(agent_id, action_id);
        CREATE TABLE IF NOT EXISTS results(idempotency_key TEXT PRIMARY KEY, agent_id TEXT NOT NULL, received_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, payload TEXT NOT NULL);
        """;

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    // why: a fan-out runs the same few statements tens of thousands of times; each is parsed once and reused (under _gate).
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;

    public TsStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.Combine(dataDirectory, FileName);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;" + Schema);
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

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

    public void Dispose()
    {
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
}
