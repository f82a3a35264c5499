namespace Tcm.LoadTests.Cli;

/// <summary>
/// The load generator's shared array pool, widened for the push tests. One process here plays thousands of machines, each of which
/// would have a pool of its own: a fan-out lands on every agent's HTTP/2 stream at once, and each stream rents a 16 KB block for the
/// frame until its reader takes it, so with the runtime's default (32 arrays per partition, one partition per core) almost every
/// block of a fan-out was a fresh allocation: 18% of the load generator's CPU in a profile of a 2,000-agent fan-out, and the
/// collections that followed, for TCM and the baseline alike. The servers the tests start keep the runtime's default.
/// </summary>
internal static class ClientArrayPool
{
    /// <summary>The runtime's setting (read once, when the pool is first used; an environment variable only).</summary>
    public const string Variable = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    private const string ArraysPerPartition = "4096";

    /// <summary>Whether this process widened its pool (so its servers are started without the setting).</summary>
    public static bool Widened { get; private set; }

    /// <summary>For a push test (<paramref name="args"/>' first word), widens the pool unless the setting is given; call it first thing.</summary>
    public static void WidenForPushTests(string[] args)
    {
        if (args is ["push-fanout" or "push-fanout-rate", ..] && Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, ArraysPerPartition);
            Widened = true;
        }
    }
}
