using System.Globalization;

namespace Tcm.Gateway.Relay;

/// <summary>
/// How many arrays of each size the process's shared <see cref="System.Buffers.ArrayPool{T}"/> keeps, for a gateway.
/// <para>
/// why: the relay's tunnel copy (YARP's) rents a 64 KB buffer from the shared pool for every relayed message and holds it
/// across the write to the other side. In a fan-out thousands of tunnels hold one at the same moment, far more than the pool
/// keeps by default (32 arrays per size per core), so most rents allocated a new 64 KB array that was garbage at once: at
/// 2,000 agents through the gateway with a Task Server the gateway allocated about 150 MB a second during fan-outs and spent
/// about a fifth of that time in GC pauses (docs/benchmarks.md, issue 15). The runtime reads the limit once, from an
/// environment variable, when the pool is first used, so <c>tcm gateway</c> sets it first thing; a value the operator set wins.
/// Arrays the pool keeps and does not use again are released by its own trimming after a full GC.
/// </para>
/// </summary>
public static class RelayBufferPool
{
    /// <summary>The runtime's setting: arrays kept per size and per partition (one partition per core).</summary>
    public const string Variable = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    /// <summary>What the gateway keeps: a fan-out's worth of tunnels holding a buffer at once, over two cores.</summary>
    public const int ArraysPerPartition = 1024;

    /// <summary>Sets <see cref="Variable"/> for this process unless it is set; call before anything uses the shared pool.</summary>
    public static void ConfigureProcess()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
        {
            Environment.SetEnvironmentVariable(Variable, ArraysPerPartition.ToString(CultureInfo.InvariantCulture));
        }
    }
}
