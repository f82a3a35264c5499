using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Tcm.Hosting.Storage;

/// <summary>
/// A list of values as one SQLite argument, a JSON array for <c>json_each</c>: a statement over the whole list (an insert or update
/// per element, joined with <c>json_each(@p)</c>) in place of one statement per element, as PostgreSQL's statements take arrays.
/// Why: a fan-out to 2,000 agents made 2,000 executions of one prepared statement per table, each bound, stepped and reset through
/// the driver. Text, not bytes: SQLite reads a blob argument of <c>json_each</c> as its binary JSON format.
/// </summary>
public static class SqliteJsonList
{
    /// <summary><c>["a","b",...]</c>: read with <c>SELECT value FROM json_each(@p)</c>.</summary>
    public static string Of(IEnumerable<string> values) => Write(values, static (json, value) => json.WriteStringValue(value));

    /// <summary><c>[["a",1],["b",2],...]</c>: read with <c>SELECT value ->> 0, value ->> 1 FROM json_each(@p)</c>.</summary>
    public static string OfPairs<T>(IEnumerable<T> items, Func<T, string> key, Func<T, long> number) => Write(items, (json, item) =>
    {
        json.WriteStartArray();
        json.WriteStringValue(key(item));
        json.WriteNumberValue(number(item));
        json.WriteEndArray();
    });

    private static string Write<T>(IEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var item in items)
            {
                write(json, item);
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
