using System.Collections;
using System.Reflection;
using System.Text;

namespace Tcm.Features.Runner;

/// <summary>
/// A Gherkin data table handed to a step as its last parameter. The first row is the <see cref="Header"/>; <see cref="Rows"/>
/// are the rest. Map rows to your own types with <see cref="CreateSet{T}"/> (horizontal tables) or
/// <see cref="CreateInstance{T}"/> (a vertical Field | Value table). Cells convert like step captures
/// (see <see cref="StepArgumentConverter"/>): numbers, booleans, "10s", "99%", enums, and so on.
/// </summary>
/// <example>
/// <code>
/// // Given these agents:
/// //   | name  | location | vpn   |
/// //   | alpha | office   | false |
/// sealed record AgentRow(string Name, Location Location, bool Vpn);
/// [Given("^these agents:$")] public void GivenTheseAgents(DataTable table) => _agents.AddRange(table.CreateSet&lt;AgentRow&gt;());
/// </code>
/// </example>
internal sealed class DataTable
{
    /// <summary>Builds a table from its rows of cells; the first row is the header.</summary>
    public DataTable(IEnumerable<IEnumerable<string>> rows)
    {
        var all = rows.Select(r => (IReadOnlyList<string>)r.ToArray()).ToArray();
        if (all.Length == 0)
        {
            throw new ArgumentException("A data table needs at least a header row.", nameof(rows));
        }

        Header = all[0];
        Rows = [.. all.Skip(1).Select((r, i) => new DataTableRow(this, r, i))];
    }

    /// <summary>Builds a table from a header and rows: <c>new DataTable(["a", "b"], ["1", "2"])</c>.</summary>
    public DataTable(IReadOnlyList<string> header, params IReadOnlyList<string>[] rows)
        : this(new[] { header }.Concat(rows))
    {
    }

    /// <summary>The first row: column names.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>The rows under the header.</summary>
    public IReadOnlyList<DataTableRow> Rows { get; }

    /// <summary>Number of rows under the header.</summary>
    public int RowCount => Rows.Count;

    /// <summary>Header and rows together, as written.</summary>
    public IEnumerable<IReadOnlyList<string>> AllRows => new[] { Header }.Concat(Rows.Select(r => r.Cells));

    /// <summary>Index of a column by name (case-insensitive, spaces ignored), or -1.</summary>
    public int IndexOf(string column)
    {
        var wanted = TableMapper.Normalize(column);
        for (var i = 0; i < Header.Count; i++)
        {
            if (TableMapper.Normalize(Header[i]) == wanted)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// One <typeparamref name="T"/> per row. Columns map to constructor parameters or settable properties by name
    /// (case-insensitive; spaces, '-' and '_' ignored: "VPN adapter" fills <c>VpnAdapter</c>). A column with no matching
    /// member is an error, so a typo in a feature file fails loudly.
    /// </summary>
    public IReadOnlyList<T> CreateSet<T>() =>
        [.. Rows.Select(r => TableMapper.Map<T>(Header.Zip(r.Cells, (h, v) => (h, v)), $"row at position {r.Index + 1}"))];

    /// <summary>
    /// One <typeparamref name="T"/> from a vertical table: any two-column table is read as field | value pairs, its
    /// first row included unless it reads "Field | Value" (or "Name | Value"). A table with more columns must have
    /// exactly one row under its header.
    /// </summary>
    public T CreateInstance<T>()
    {
        if (Header.Count == 2)
        {
            var pairs = AllRows
                .Where((r, i) => i > 0 || !IsVerticalHeader())
                .Select(r => (r[0], r[1]));
            return TableMapper.Map<T>(pairs, "vertical table");
        }

        if (Rows.Count == 1)
        {
            return CreateSet<T>()[0];
        }

        throw new InvalidOperationException(
            $"CreateInstance<{typeof(T).Name}> needs a two-column Field | Value table or a table with one row; this one has {Header.Count} columns and {Rows.Count} rows.");
    }

    /// <summary>The table in Gherkin form, for messages.</summary>
    public override string ToString()
    {
        var rows = AllRows.ToArray();
        var widths = Enumerable.Range(0, Header.Count).Select(c => rows.Max(r => c < r.Count ? r[c].Length : 0)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.Append('|');
            for (var c = 0; c < widths.Length; c++)
            {
                text.Append(' ').Append((c < row.Count ? row[c] : "").PadRight(widths[c])).Append(" |");
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    private bool IsVerticalHeader() =>
        TableMapper.Normalize(Header[0]) is "field" or "name" or "property" or "key"
        && TableMapper.Normalize(Header[1]) == "value";
}

/// <summary>One row of a <see cref="DataTable"/>: read cells by column name or position.</summary>
internal sealed class DataTableRow : IReadOnlyDictionary<string, string>
{
    private readonly DataTable _table;

    internal DataTableRow(DataTable table, IReadOnlyList<string> cells, int index)
    {
        _table = table;
        Cells = cells;
        Index = index;
    }

    /// <summary>The cells, in column order.</summary>
    public IReadOnlyList<string> Cells { get; }

    /// <summary>Position of the row under the header, from 0.</summary>
    public int Index { get; }

    /// <summary>The cell in the named column (case-insensitive, spaces ignored).</summary>
    public string this[string column] =>
        TryGetValue(column, out var value)
            ? value
            : throw new KeyNotFoundException($"The table has no column '{column}'; its columns are: {string.Join(", ", _table.Header)}.");

    /// <summary>The cell at a column position, from 0.</summary>
    public string this[int column] => Cells[column];

    /// <summary>The named cell converted like a step capture: <c>row.Get&lt;int&gt;("count")</c>, <c>row.Get&lt;TimeSpan&gt;("delay")</c>.</summary>
    public T Get<T>(string column) => (T)StepArgumentConverter.Convert(this[column], typeof(T), column)!;

    public IEnumerable<string> Keys => _table.Header;

    public IEnumerable<string> Values => Cells;

    public int Count => Cells.Count;

    public bool ContainsKey(string key) => _table.IndexOf(key) >= 0;

    public bool TryGetValue(string key, out string value)
    {
        var index = _table.IndexOf(key);
        value = index >= 0 && index < Cells.Count ? Cells[index] : "";
        return index >= 0;
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() =>
        _table.Header.Zip(Cells, KeyValuePair.Create).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Maps name/value pairs (table columns or rows) onto constructor parameters and settable properties.</summary>
internal static class TableMapper
{
    public static string Normalize(string name) =>
        new string(name.Where(c => c is not (' ' or '_' or '-')).ToArray()).ToLowerInvariant();

    public static T Map<T>(IEnumerable<(string Name, string Value)> pairs, string what)
    {
        var type = typeof(T);
        var values = new Dictionary<string, (string Name, string Value)>();
        foreach (var pair in pairs)
        {
            values[Normalize(pair.Name)] = pair;
        }

        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        if (ctor is null && !type.IsValueType)
        {
            throw new InvalidOperationException($"{type.Name} has no public constructor to map a table {what} onto.");
        }

        var used = new HashSet<string>();
        var args = new List<object?>();
        foreach (var parameter in ctor?.GetParameters() ?? [])
        {
            var key = Normalize(parameter.Name!);
            if (values.TryGetValue(key, out var pair))
            {
                args.Add(StepArgumentConverter.Convert(pair.Value, parameter.ParameterType, pair.Name));
                used.Add(key);
            }
            else if (parameter.HasDefaultValue)
            {
                args.Add(parameter.DefaultValue);
            }
            else
            {
                throw new InvalidOperationException(
                    $"The table {what} has no column '{parameter.Name}' for {type.Name}; its columns are: {string.Join(", ", values.Values.Select(v => v.Name))}.");
            }
        }

        var instance = ctor is null ? Activator.CreateInstance(type)! : ctor.Invoke([.. args]);
        foreach (var (key, pair) in values)
        {
            if (used.Contains(key))
            {
                continue;
            }

            var property = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .FirstOrDefault(p => p.CanWrite && p.SetMethod!.IsPublic && Normalize(p.Name) == key);
            if (property is null)
            {
                throw new InvalidOperationException(
                    $"The table {what} has a column '{pair.Name}' that {type.Name} has no constructor parameter or settable property for.");
            }

            property.SetValue(instance, StepArgumentConverter.Convert(pair.Value, property.PropertyType, pair.Name));
        }

        return (T)instance;
    }
}
