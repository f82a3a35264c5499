using System.Buffers;
using System.Text.Json;
using Tcm.Hosting.Storage;
using Tcm.Protocol;
using Tcm.TaskServer.Store;

namespace Tcm.TaskServer.Agents;

/// <summary>
/// One outbox entry: a status or a result for the NS, in the outbox's order (<see cref="Id"/>), and its JSON as stored in its row, which
/// is also what the request to the NS carries for it (<see cref="TsOutbox.WriteBatch"/>).
/// </summary>
internal sealed record OutboxEntry(long Id, TaskServerStatusItem? Status, TaskServerResultItem? Result, string Json)
{
    public const string StatusKind = "status";
    public const string ResultKind = "result";

    public string Kind => Status is null ? ResultKind : StatusKind;

    /// <summary>The entry's size as JSON, which cuts a request's batch.</summary>
    public int Bytes => Json.Length;
}

/// <summary>
/// The statuses and results not yet forwarded to the NS (store and forward). Each is a row of the store's <c>outbox</c> table,
/// written in the same transaction as what it reports, so it survives a restart; the link reads the entries committed, in order,
/// and drops them once the NS confirmed them.
/// <para>
/// why the entries are held in memory from their commit on: serialising each item into its row, reading the row back and
/// deserialising it for the request to the NS was a visible share of the Task Server's CPU in a fan-out, and a read of the rows
/// waited for the single writer's batch in progress (it holds the connection for the whole batch: tens of milliseconds in a
/// fan-out), so each forward to the NS started that much later. The store tells the outbox what became of each write
/// (<see cref="IWriteOutcomes"/>): an entry a write added is published when its transaction committed, and dropped when the write
/// was rolled back, so a write rolled back never reaches the NS. Only the rows left from before a start are read from the store
/// (<see cref="_restoredUpTo"/>): the table is <c>AUTOINCREMENT</c>, so every entry added since has a greater id, and those rows go first.
/// </para>
/// </summary>
internal sealed class TsOutbox : IWriteOutcomes
{
    private static readonly JsonEncodedText ItemsName = JsonEncodedText.Encode("items");
    private static readonly JsonEncodedText StatusesName = JsonEncodedText.Encode("statuses");

    private readonly TsStore _store;
    private readonly Lock _lock = new();

    // why: the entries committed since the start and not yet confirmed by the NS, in the outbox's order.
    private readonly SortedDictionary<long, OutboxEntry> _committed = [];

    // why: the entries the writer's batch in progress added, published at its commit; the writer's loop alone touches them.
    private readonly List<OutboxEntry> _adding = [];
    private int _writeStart;

    // why: the greatest id of the rows found at start, read from the store until none is left (0 then).
    private long _restoredUpTo;

    // why: rows the NS confirmed whose delete is queued on the single writer but not yet committed; no reader sees them. Added
    // before the delete is queued, removed by the delete's own write (under the store's gate, as every query), so a query's rows
    // and this set always agree.
    private readonly HashSet<long> _removing = [];

    private readonly Action? _published;

    /// <param name="store">The store whose <c>outbox</c> table this is.</param>
    /// <param name="published">Runs on the writer's loop after a commit published entries (must not block): the link's drain wakes
    /// once per commit rather than once per result.</param>
    public TsOutbox(TsStore store, Action? published = null)
    {
        _store = store;
        _published = published;
        _restoredUpTo = store.Query("SELECT COALESCE(MAX(id), 0) FROM outbox", static r => r.GetInt64(0))[0];
        store.ObserveWrites(this);
    }

    /// <summary>Statuses and results not yet forwarded.</summary>
    public int Count => (int)_store.Query("SELECT COUNT(*) FROM outbox", r => r.GetInt64(0) - RemovingCount()).First();

    /// <summary>Queues a status for the NS (inside a write).</summary>
    public void Add(TsStore write, TaskServerStatusItem status)
    {
        var json = JsonSerializer.Serialize(status, ProtocolJsonContext.Default.TaskServerStatusItem);
        _adding.Add(new OutboxEntry(Insert(write, OutboxEntry.StatusKind, json), status, null, json));
    }

    /// <summary>Queues a result for the NS (inside a write).</summary>
    public void Add(TsStore write, TaskServerResultItem result)
    {
        var json = JsonSerializer.Serialize(result, ProtocolJsonContext.Default.TaskServerResultItem);
        _adding.Add(new OutboxEntry(Insert(write, OutboxEntry.ResultKind, json), null, result, json));
    }

    /// <summary>The oldest committed entries not being removed, at most <paramref name="max"/>, in order.</summary>
    public List<OutboxEntry> Peek(int max)
    {
        var entries = new List<OutboxEntry>(Math.Min(max, 1024));
        var restoredUpTo = Volatile.Read(ref _restoredUpTo);
        if (restoredUpTo > 0)
        {
            var read = _store.Query("SELECT id, kind, payload FROM outbox WHERE id <= @p0 ORDER BY id LIMIT @p1",
                static r => (Id: r.GetInt64(0), Kind: r.GetString(1), Payload: r.GetString(2)), restoredUpTo, max + RemovingCount());
            if (read.Count == 0)
            {
                Interlocked.CompareExchange(ref _restoredUpTo, 0, restoredUpTo);
            }

            entries.AddRange(read.Where(row => !IsRemoving(row.Id)).Take(max).Select(static row => Parse(row.Id, row.Kind, row.Payload)));
        }

        lock (_lock)
        {
            foreach (var entry in _committed.Values)
            {
                if (entries.Count >= max)
                {
                    break;
                }

                entries.Add(entry);
            }
        }

        return entries;
    }

    void IWriteOutcomes.WriteStarting() => _writeStart = _adding.Count;

    void IWriteOutcomes.WriteUndone() => _adding.RemoveRange(_writeStart, _adding.Count - _writeStart);

    void IWriteOutcomes.Committed()
    {
        if (_adding.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var entry in _adding)
            {
                _committed[entry.Id] = entry;
            }
        }

        _adding.Clear();
        _published?.Invoke();
    }

    void IWriteOutcomes.Abandoned() => _adding.Clear();

    /// <summary>
    /// Drops entries the NS confirmed: at once for every reader, and from the store by one statement queued on the single writer.
    /// Why queued: a delete of its own waited for the writer's batch and committed alone (tens of milliseconds, sometimes a checkpoint),
    /// and the next batch of results for the NS waited behind it. Should the write fail, the rows are read and forwarded again,
    /// which the NS answers as duplicates.
    /// </summary>
    public void Remove(IReadOnlyCollection<long> ids)
    {
        if (ids.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var id in ids)
            {
                _committed.Remove(id);
                _removing.Add(id);
            }
        }

        var list = IdList(ids);
        _store.Post(
            write =>
            {
                try
                {
                    write.Execute("DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(@p0))", list);
                }
                finally
                {
                    lock (_lock)
                    {
                        _removing.ExceptWith(ids);
                    }
                }
            },
            "forwarded outbox entries removed");
    }

    /// <summary>
    /// The body of one request to the NS (<see cref="TaskServerResultBatch"/>: <paramref name="results"/> as its items, <paramref name="statuses"/>
    /// as its statuses) from the entries' own JSON. Why: each entry was serialised once for its row; serialising the batch again was
    /// a second encoding of every status and result on the way to the NS.
    /// </summary>
    public static byte[] WriteBatch(IReadOnlyList<OutboxEntry> statuses, IReadOnlyList<OutboxEntry> results)
    {
        var buffer = new ArrayBufferWriter<byte>(results.Sum(static r => r.Bytes) + statuses.Sum(static s => s.Bytes) + 64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            WriteArray(writer, ItemsName, results);
            if (statuses.Count > 0)
            {
                WriteArray(writer, StatusesName, statuses);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteArray(Utf8JsonWriter writer, JsonEncodedText name, IReadOnlyList<OutboxEntry> entries)
    {
        writer.WriteStartArray(name);
        foreach (var entry in entries)
        {
            // why: the entry's JSON came from the serializer (its row, or an earlier run's row read back), so it is not checked again.
            writer.WriteRawValue(entry.Json, skipInputValidation: true);
        }

        writer.WriteEndArray();
    }

    private static long Insert(TsStore write, string kind, string payload) =>
        write.Query("INSERT INTO outbox(kind, payload) VALUES(@p0,@p1) RETURNING id", static r => r.GetInt64(0), kind, payload)[0];

    private bool IsRemoving(long id)
    {
        lock (_lock)
        {
            return _removing.Contains(id);
        }
    }

    private int RemovingCount()
    {
        lock (_lock)
        {
            return _removing.Count;
        }
    }

    private static OutboxEntry Parse(long id, string kind, string payload) => kind == OutboxEntry.StatusKind
        ? new OutboxEntry(id, JsonSerializer.Deserialize(payload, ProtocolJsonContext.Default.TaskServerStatusItem)!, null, payload)
        : new OutboxEntry(id, null, JsonSerializer.Deserialize(payload, ProtocolJsonContext.Default.TaskServerResultItem)!, payload);

    private static string IdList(IEnumerable<long> ids) => "[" + string.Join(',', ids) + "]";
}
