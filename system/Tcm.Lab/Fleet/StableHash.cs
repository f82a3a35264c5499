namespace Tcm.Lab.Fleet;

/// <summary>Seeded choices that are the same in every process and shard (unlike <see cref="string.GetHashCode()"/>).</summary>
public static class StableHash
{
    /// <summary>SplitMix64 of two values: a stable, well-spread hash.</summary>
    public static ulong Mix(ulong a, ulong b)
    {
        var z = a * 0x9E3779B97F4A7C15UL + b + 0x632BE59BD9B4E5B9UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
