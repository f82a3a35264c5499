using System.Globalization;

namespace Tcm.Simulator.Fleet;

/// <summary>
/// <c>--shard i/N</c>: this process runs the agents whose index k has <c>k % N == i</c> (0 &lt;= i &lt; N), so N processes
/// together run the whole fleet with the same agents as one would.
/// </summary>
internal readonly record struct ShardSpec(int Index, int Count)
{
    /// <summary>Whether agent <paramref name="agentIndex"/> belongs to this shard.</summary>
    public bool Contains(int agentIndex) => agentIndex % Count == Index;

    /// <summary>How many of <paramref name="totalAgents"/> agents this shard runs.</summary>
    public int SizeOf(int totalAgents) => totalAgents / Count + (Index < totalAgents % Count ? 1 : 0);

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>Parses <c>i/N</c>.</summary>
    public static bool TryParse(string? text, out ShardSpec shard, out string? error)
    {
        shard = default;
        error = null;
        var parts = text?.Split('/') ?? [];
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            error = $"--shard must be i/N, like 0/4 (got '{text}')";
            return false;
        }

        if (count < 1 || index >= count)
        {
            error = $"--shard i/N needs N >= 1 and 0 <= i < N (got '{text}'); shards are numbered from 0";
            return false;
        }

        shard = new ShardSpec(index, count);
        return true;
    }
}
