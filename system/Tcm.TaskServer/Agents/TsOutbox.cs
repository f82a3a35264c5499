using System.Buffers;
using System.Text.Json;
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
/// written in the same transaction as what it reports, so it survives a restart; the link reads the rows committed, in order,
/// and drops them once the NS confirmed them.
/// <para>
/// why the items are also kept in memory: serialising each item into its row, reading the row back and deserialising it for the
/// request to the NS was a visible share of the Task Server's CPU in a fan-out. An item added is kept by its row id, and
/// <see cref="Peek"/> takes it from there, reading the row's JSON only for one it does not hold (written before a restart).
/// Only rows committed are read, so a write rolled back never reaches the NS; its items stay behind under ids the next insert
/// takes again (the table is <c>AUTOINCREMENT</c>: an id is reused only when the row holding it never committed), so a reused id
/// always holds the item inserted last.
/// </para>
/// </summary>
internal sealed class TsOutbox(TsStore store)
{
    private static readonly JsonEncodedText ItemsName = JsonEncodedText.Encode("items");
    private static readonly JsonEncodedText StatusesName = JsonEncodedText.Encode("statuses");

    private readonly Lock _lock = new();
    private readonly Dictionary<long, OutboxEntry> _items = [];

    // why: rows the NS confirmed whose delete is queued on the single writer but not yet committed; no reader sees them. Added
    // before the delete is queued, removed by the delete's own write (under the store's gate, as every query), so a query's rows
    // and this set always agree.
    private readonly HashSet<long> _removing = [];

    /// <summary>Statuses and results not yet forwarded.</summary>
    public int Count => (int)store.Query("SELECT COUNT(*) FROM outbox", r => r.GetInt64(0) - RemovingCount()).First();

    /// <summary>Queues a status for the NS (inside a write).</summary>
    public void Add(TsStore write, TaskServerStatusItem status)
    {
        var json = JsonSerializer.Serialize(status, ProtocolJsonContext.Default.TaskServerStatusItem);
        Keep(new OutboxEntry(Insert(write, OutboxEntry.StatusKind, json), status, null, json));
    }

    /// <summary>Queues a result for the NS (inside a write).</summary>
    public void Add(TsStore write, TaskServerResultItem result)
    {
        var json = JsonSerializer.Serialize(result, ProtocolJsonContext.Default.TaskServerResultItem);
        Keep(new OutboxEntry(Insert(write, OutboxEntry.ResultKind, json), null, result, json));
    }

    /// <summary>The oldest committed entries not being removed, at most <paramref name="max"/>, in order.</summary>
    public List<OutboxEntry> Peek(int max)
    {
        var ids = store.Query("SELECT id FROM outbox ORDER BY id LIMIT @p0", r => IsRemoving(r.GetInt64(0)) ? -1 : r.GetInt64(0), max + RemovingCount())
            .Where(static id => id >= 0).Take(max).ToList();
        var entries = new List<OutboxEntry>(ids.Count);
        List<long>? missing = null;
        lock (_lock)
        {
            foreach (var id in ids)
            {
                if (_items.TryGetValue(id, out var entry))
                {
                    entries.Add(entry);
                }
                else
                {
                    (missing ??= []).Add(id);
                }
            }
        }

        if (missing is null)
        {
            return entries;
        }

        var read = store.Query("SELECT id, kind, payload FROM outbox WHERE id IN (SELECT value FROM json_each(@p0))",
            static r => Parse(r.GetInt64(0), r.GetString(1), r.GetString(2)), IdList(missing));
        return [.. entries.Concat(read).OrderBy(static e => e.Id)];
    }

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
                _items.Remove(id);
                _removing.Add(id);
            }
        }

        var list = IdList(ids);
        store.Post(
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

    private void Keep(OutboxEntry entry)
    {
        lock (_lock)
        {
            _items[entry.Id] = entry;
        }
    }

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
