using System.Data.Common;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tcm.Hosting.Storage;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Store;

/// <summary>
/// The Notification Server's store: by default one SQLite file (<c>tcm.db</c>, WAL) in the data folder, or a PostgreSQL database
/// (<see cref="NotificationServerOptions.Store"/>) that several nodes may share. The same schema, migrations and SQL text on both.
/// Every write of this process goes through <see cref="Writer"/>; reads use short-lived pooled connections, which WAL (or the
/// server) lets run beside the writer.
/// </summary>
internal sealed partial class TcmStore : IAsyncDisposable
{
    internal const string FileName = "tcm.db";

    /// <summary>Most writes in one transaction.</summary>
    internal const int MaxWriteBatch = 2000;

    /// <summary>
    /// How long a batch of the writer that found other writes waiting waits for more. Why 4 ms: a fan-out's results arrive a few
    /// per millisecond, and without it the writer committed them a handful at a time, each commit writing the same pages of
    /// results, action targets and pushes to the WAL again (the file writes were a tenth of the NS's CPU in a fan-out's profile);
    /// a result's acknowledgement waits that much longer, against round trips of hundreds of milliseconds.
    /// </summary>
    internal static readonly TimeSpan WriteGatherWindow = TimeSpan.FromMilliseconds(4);

    /// <summary>Most characters of a target's output a <see cref="TargetStateChange"/> carries (the whole output stays in the store).</summary>
    internal const int ChangeOutputLimit = 1024;

    // why a trigger: it sees every change of a target's state, whichever statement (and whichever state text) made it, and only
    // real changes; TEMP, so it lives on the writer's connection only and nothing of it is stored in the file. It exists only while
    // the capture is on: the writer creates and drops it in a batch's transaction (WriteContext.Bind). Why not a function the trigger
    // asks first: that was a call into this process and five objects per target update with nobody listening (a fan-out's results).
    internal static readonly string TargetStateTrigger =
        $"""
        CREATE TEMP TRIGGER IF NOT EXISTS tcm_target_state AFTER UPDATE OF status, result_count ON main.action_targets
        WHEN old.status IS NOT new.status OR old.result_count IS NOT new.result_count
        BEGIN
            SELECT tcm_target_state(new.action_id, new.agent_id, new.status, new.delivered_via, new.delivered_at, new.completed_at,
                new.exit_code, substr(new.output, 1, {ChangeOutputLimit}), coalesce(length(new.output), 0) > {ChangeOutputLimit}, new.result_count);
        END;
        """;

    private readonly Func<DbConnection> _openRead;
    private readonly NpgsqlDataSource? _dataSource;
    private readonly DbConnection _writerConnection;
    private readonly WriteContext _writeContext;

    /// <summary>The embedded store: <c>tcm.db</c> in <paramref name="dataDirectory"/>.</summary>
    public TcmStore(string dataDirectory, ILogger logger)
        : this(dataDirectory, postgres: null, logger)
    {
    }

    /// <summary>
    /// The store in <paramref name="postgres"/> (a PostgreSQL connection string), or, when that is empty, the embedded file in
    /// <paramref name="dataDirectory"/>. Either is brought to the current schema before anything else runs on it.
    /// </summary>
    public TcmStore(string dataDirectory, string? postgres, ILogger logger)
    {
        if (string.IsNullOrWhiteSpace(postgres))
        {
            var sqlite = OpenSqlite(dataDirectory, out var connectionString);
            Path = System.IO.Path.Combine(dataDirectory, FileName);
            _openRead = () => new SqliteConnection(connectionString);
            _writerConnection = sqlite;
            Schema = MigrateOrClose(sqlite, () => SchemaMigrator.Migrate(sqlite, TcmSchema.Definition));
            _writeContext = new WriteContext(sqlite);
            CaptureTargetStates(sqlite, _writeContext);
        }
        else
        {
            _dataSource = PostgresStore.CreateDataSource(postgres);
            Path = PostgresStore.Describe(_dataSource);
            IsPostgres = true;
            var dataSource = _dataSource;
            _openRead = () => dataSource.CreateConnection();
            var writer = dataSource.OpenConnection();
            _writerConnection = writer;
            Schema = MigrateOrClose(writer, () =>
            {
                var outcome = SchemaMigrator.Migrate(writer, TcmSchema.Definition);
                PostgresTargetStates.InstallTrigger(writer);
                PostgresTargetStates.PrepareWriter(writer);
                return outcome;
            });
            _writeContext = new WriteContext(writer);
        }

        Log.SchemaReady(logger, IsPostgres ? Path : FileName, Schema.FromVersion, Schema.ToVersion, Schema.AdoptedUnversioned);
        Writer = new StoreWriteQueue<WriteContext>(_writerConnection, _writeContext, _writeContext.Bind, MaxWriteBatch, logger, gatherWindow: WriteGatherWindow,
            // why: the real clock, not the server's injected one: it only decides how writes share a commit, and a test's fake clock would
            // hold the store's commits until the test advanced it.
            gatherClock: TimeProvider.System,
            opened: IsPostgres ? connection => Reopened((NpgsqlConnection)connection) : null,
            storeName: "tcm",
            // why: other nodes write the same database; a batch one of them deadlocked with runs again instead of failing its callers.
            retry: IsPostgres ? StoreRetryPolicy.PostgreSql : null,
            pipeline: _writeContext.Pipeline);
    }

    /// <summary>Where the store is: the database file, or the PostgreSQL server and database (never its password).</summary>
    public string Path { get; }

    /// <summary>Whether the store is a PostgreSQL database (else the embedded SQLite file).</summary>
    public bool IsPostgres { get; }

    /// <summary>What opening the store did to its schema.</summary>
    public SchemaMigrationOutcome Schema { get; }

    /// <summary>The one writer (of this process: on PostgreSQL other nodes may write beside it).</summary>
    public StoreWriteQueue<WriteContext> Writer { get; }

    /// <summary>Results stored since the last checkpoint this store ran itself (<see cref="AfterHeldWrites"/>); the writer's loop only.</summary>
    private int _heldSinceCheckpoint;

    /// <summary>
    /// The writer's work after a held batch of results committed (<see cref="StoreWriteQueue{TContext}.HoldWhile"/>): on SQLite, once a
    /// thousand or more results are stored since the last one, a passive WAL checkpoint now, between fan-outs. Why: a fan-out's results
    /// write about 8 KB of WAL each, so the automatic checkpoint (8,192 pages) came every two fan-outs or so, in whichever commit crossed
    /// it, often a fan-out's pushes, whose first send then waited 50 to 80 ms; this one copies the same pages, but while nothing waits.
    /// </summary>
    public void AfterHeldWrites(int committed)
    {
        if (IsPostgres || (_heldSinceCheckpoint += committed) < CheckpointAfterResults)
        {
            return;
        }

        _heldSinceCheckpoint = 0;
        using var command = _writerConnection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        command.ExecuteNonQuery();
    }

    /// <summary>Results stored between the checkpoints of <see cref="AfterHeldWrites"/>.</summary>
    internal const int CheckpointAfterResults = 1000;

    /// <summary>
    /// A condition that <paramref name="column"/> equals the parameter <paramref name="parameter"/> ignoring case, as the schema's
    /// case-insensitive indexes serve it (SQLite's <c>NOCASE</c>, PostgreSQL's index on <c>lower(...)</c>).
    /// </summary>
    public string EqualsIgnoringCase(string column, string parameter) =>
        IsPostgres ? $"lower({column}) = lower({parameter})" : $"{column} = {parameter} COLLATE NOCASE";

    /// <summary>Whether the store can serve a query (health check).</summary>
    public bool IsOpen
    {
        get
        {
            try
            {
                using var connection = OpenRead();
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT 1";
                return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 1;
            }
            catch (DbException)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Hands every committed change of a target's state (or of its result count) to <paramref name="committed"/>, on the writer's
    /// loop right after the commit, in commit order; a write rolled back hands nothing. One listener: the action ledger.
    /// </summary>
    public void WatchTargetStates(Action<IReadOnlyList<TargetStateChange>> committed) => _writeContext.TargetStatesCommitted = committed;

    /// <summary>
    /// Turns the capture of targets' state changes on or off (on at start; off, a fan-out's results and acknowledgements spare the
    /// trigger's work). Turned on, it completes once every write that may have run without it has committed, so a read of the store
    /// that starts after it sees each change that was not captured.
    /// </summary>
    public async Task CaptureTargetStatesAsync(bool on, CancellationToken cancellationToken)
    {
        _writeContext.CapturesTargetStates = on;
        if (on)
        {
            // why a write: the writer runs its queue in order, so this one commits with or after any write that was running at the switch.
            await Writer.WriteAsync(static _ => { }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>An open read connection (pooled); the caller disposes it.</summary>
    public DbConnection OpenRead()
    {
        var connection = _openRead();
        connection.Open();
        return connection;
    }

    /// <summary>Runs a query on a pooled read connection.</summary>
    public List<T> Query<T>(string sql, Func<DbDataReader, T> map, params ReadOnlySpan<object?> args)
    {
        using var connection = OpenRead();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        PostgresStatements.Bind(command, args);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    public string? GetSetting(string key) =>
        Query("SELECT value FROM settings WHERE key=@p0", r => r.GetString(0), key).FirstOrDefault();

    public List<CommunicationProfile> LoadProfiles() =>
        Query("SELECT body FROM profiles", r => Deserialize(r.GetString(0), ProtocolJsonContext.Default.CommunicationProfile));

    public List<TargetedAgentSettings> LoadTargetedSettings() =>
        Query("SELECT body FROM targeted_settings", r => Deserialize(r.GetString(0), ProtocolJsonContext.Default.TargetedAgentSettings));

    public List<(string Id, string? ProfileId, string TokenHash)> LoadInstallPackages() =>
        Query("SELECT id, profile_id, token_hash FROM install_packages WHERE revoked=0", r => (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetString(2)));

    /// <summary>Every agent, or only <paramref name="id"/> (an agent another node registered) when given.</summary>
    public List<StoredAgent> LoadAgents(string? id = null) =>
        Query(
            """
            SELECT a.id, a.name, a.domain, a.os, a.attributes, a.registered_at, a.last_contact, a.next_seq, a.acked_seq, a.network_status,
                   (SELECT MAX(seq) FROM pushes p WHERE p.agent_id = a.id),
                   (SELECT MAX(seq) FROM pushes p WHERE p.agent_id = a.id AND p.acked_at IS NOT NULL),
                   a.node, a.route
            FROM agents a
            """ + (id is null ? "" : " WHERE a.id=@p0"),
            r =>
            {
                var maxSeq = r.IsDBNull(10) ? 0 : r.GetInt64(10);
                return new StoredAgent(
                    Id: r.GetString(0),
                    ComputerName: r.GetString(1),
                    Domain: r.IsDBNull(2) ? null : r.GetString(2),
                    OsName: r.IsDBNull(3) ? null : r.GetString(3),
                    Attributes: Deserialize(r.GetString(4), ProtocolJsonContext.Default.IReadOnlyDictionaryStringString),
                    RegisteredAt: DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
                    NetworkStatus: r.IsDBNull(9) ? null : Deserialize(r.GetString(9), ProtocolJsonContext.Default.NetworkStatus),
                    NextSeq: Math.Max(r.GetInt64(7), maxSeq + 1),
                    AckedSeq: Math.Max(r.GetInt64(8), r.IsDBNull(11) ? 0 : r.GetInt64(11)),
                    LastContactMs: r.IsDBNull(6) ? null : r.GetInt64(6),
                    Node: r.IsDBNull(12) ? null : r.GetString(12),
                    Route: r.IsDBNull(13) ? null : r.GetString(13));
            },
            id is null ? [] : [id]);

    /// <summary>The highest sequence number stored for each agent with pushes, whichever node stored them.</summary>
    public List<(string AgentId, long LastSeq)> LoadLastPushSeqs() =>
        Query("SELECT agent_id, MAX(seq) FROM pushes GROUP BY agent_id", r => (r.GetString(0), r.GetInt64(1)));

    /// <summary>
    /// Which node holds each agent's connection (and the route of the agent's hello there) and when the agent was last heard of, for the
    /// agents some node holds and those heard of after <paramref name="contactAfterMs"/> (milliseconds since the epoch).
    /// </summary>
    public List<(string AgentId, string? Node, long? LastContactMs, string? Route)> LoadAgentPresence(long contactAfterMs) =>
        Query(
            "SELECT id, node, last_contact, route FROM agents WHERE node IS NOT NULL OR last_contact > @p0",
            static r => (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? (long?)null : r.GetInt64(2), r.IsDBNull(3) ? null : r.GetString(3)),
            contactAfterMs);

    /// <summary>The Network Status the store holds for each of <paramref name="agentIds"/> it knows.</summary>
    public List<(string AgentId, NetworkStatus? Status)> LoadAgentStates(IReadOnlyList<string> agentIds)
    {
        if (agentIds.Count == 0)
        {
            return [];
        }

        var names = string.Join(',', Enumerable.Range(0, agentIds.Count).Select(static i => $"@p{i}"));
        object?[] args = [.. agentIds];
        return Query(
            $"SELECT id, network_status FROM agents WHERE id IN ({names})",
            static r => (r.GetString(0), r.IsDBNull(1) ? null : Deserialize(r.GetString(1), ProtocolJsonContext.Default.NetworkStatus)),
            args);
    }

    /// <summary>Stored pushes of an agent with <c>seq &gt; afterSeq</c>, in order, as the UTF-8 JSON that goes on the wire.</summary>
    public List<(long Seq, byte[] Payload)> GetPushesAfter(string agentId, long afterSeq, int max) =>
        Query("SELECT seq, payload FROM pushes WHERE agent_id=@p0 AND seq>@p1 ORDER BY seq LIMIT @p2", r => (r.GetInt64(0), (byte[])r.GetValue(1)), agentId, afterSeq, max);

    private void Reopened(NpgsqlConnection connection)
    {
        PostgresTargetStates.PrepareWriter(connection);
        _writeContext.SessionOpened();
    }

    private static void CaptureTargetStates(SqliteConnection connection, WriteContext context) =>
        connection.CreateFunction<string, string, string, string?, long?, long?, long?, string?, bool, long, int>(
            "tcm_target_state",
            (actionId, agentId, state, via, deliveredAt, completedAt, exitCode, output, truncated, results) =>
            {
                if (context.TargetStatesCommitted is not null)
                {
                    context.TargetStateWritten(new TargetStateChange(actionId, agentId, state, via, deliveredAt, completedAt, exitCode, output, truncated, results));
                }

                return 0;
            });

    internal static string Serialize<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.Serialize(value, typeInfo);

    internal static T Deserialize<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.Deserialize(json, typeInfo) ?? throw new InvalidDataException($"The store holds JSON null where a {typeof(T).Name} was expected.");

    internal static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public async ValueTask DisposeAsync()
    {
        await Writer.DisposeAsync().ConfigureAwait(false);
        _writeContext.Dispose();
        if (_writerConnection is SqliteConnection sqlite)
        {
            SqliteConnection.ClearPool(sqlite);
        }

        await _writerConnection.DisposeAsync().ConfigureAwait(false);
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static SqliteConnection OpenSqlite(string dataDirectory, out string connectionString)
    {
        Directory.CreateDirectory(dataDirectory);
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = System.IO.Path.Combine(dataDirectory, FileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        return connection;
    }

    private static SchemaMigrationOutcome MigrateOrClose(DbConnection connection, Func<SchemaMigrationOutcome> migrate)
    {
        try
        {
            if (connection is SqliteConnection)
            {
                using var command = connection.CreateCommand();
                // why: the writer re-reads the pages of pushes and action targets all the time; a larger cache and a mapped file spare
                // those reads their system calls and copies (a fan-out profile showed them beside the writes). A checkpoint every 8,192
                // WAL pages (32 MB) instead of 1,000: each checkpoint copies every page the fan-outs touched into the file and syncs it
                // twice, and a fan-out of 2,000 touches the same pages many times (a profile showed the file writes and syncs at 9%).
                // temp_store=MEMORY: each write of the single writer runs in a savepoint, whose undo record SQLite keeps in memory only
                // up to 64 KiB and then in a temporary file (a fan-out's pushes are more): at the Task Server, whose store shares this
                // writer, those file writes were 83% of its pwrite64 calls. The undo record only rolls back a write inside its own
                // transaction and is never read after a crash, so memory changes nothing the store promises.
                command.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=8192; PRAGMA temp_store=MEMORY;";
                command.ExecuteNonQuery();
            }

            return migrate();
        }
        catch
        {
            // why: a refused or failed migration must not leave the file open (and locked) behind the failed start.
            if (connection is SqliteConnection sqlite)
            {
                SqliteConnection.ClearPool(sqlite);
            }

            connection.Dispose();
            throw;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Store {Store} at schema version {ToVersion} (found {FromVersion}, adopted from before versioning: {Adopted})")]
        public static partial void SchemaReady(ILogger logger, string store, int fromVersion, int toVersion, bool adopted);
    }
}
