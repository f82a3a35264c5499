namespace Tcm.LoadTests.Cli;

/// <summary>
/// The load generator's own runtime settings for the push tests, set first thing in its process (the runtime reads each once, when
/// first used; environment variables only) and removed from the servers it starts, which keep the runtime's defaults (and
/// <c>tcm</c>'s own). One process here plays thousands of machines, and these settings apply to the baseline's bare agents and
/// TCM's agents alike (same process), so they cut the harness's cost, not one variant's:
/// <list type="bullet">
/// <item>The shared array pool, widened: a fan-out lands on every agent's HTTP/2 stream at once, and each stream rents a 16 KB block for
/// the frame until its reader takes it, so with the runtime's default (32 arrays per partition, one partition per core) almost every
/// block of a fan-out was a fresh allocation: 18% of the load generator's CPU in a profile of a 2,000-agent fan-out, and the
/// collections that followed.</item>
/// <item>The thread pool's idle workers block instead of spinning (<c>UnfairSemaphoreSpinLimit</c> 0, as <c>tcm</c> runs): thousands of
/// agents' small work items in bursts kept idle workers spinning in <c>sched_yield</c> between them, 7% of the load generator's CPU
/// in a profile of a TCM fan-out, on the two cores the servers under test share.</item>
/// </list>
/// </summary>
internal static class LoadProcessRuntime
{
    /// <summary>The shared array pool's arrays per partition.</summary>
    public const string ArrayPoolVariable = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    /// <summary>How long an idle thread-pool worker spins before it blocks.</summary>
    public const string SpinLimitVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    private static readonly (string Variable, string Value)[] PushTestSettings = [(ArrayPoolVariable, "4096"), (SpinLimitVariable, "0")];

    private static readonly List<string> Set = [];

    /// <summary>The settings this process made itself (removed from the servers it starts); a setting given on the command line is kept, and passed on.</summary>
    public static IReadOnlyList<string> Variables => Set;

    /// <summary>For a push test (<paramref name="args"/>' first word), makes each setting unless it is given; call it first thing.</summary>
    public static void ApplyForPushTests(string[] args)
    {
        if (args is not ["push-fanout" or "push-fanout-rate", ..])
        {
            return;
        }

        foreach (var (variable, value) in PushTestSettings)
        {
            if (Environment.GetEnvironmentVariable(variable) is null)
            {
                Environment.SetEnvironmentVariable(variable, value);
                Set.Add(variable);
            }
        }
    }

    /// <summary>
    /// For the bare relay (<c>serve-relay</c>): the shared array pool as the gateway widens it for itself (<see cref="Tcm.Gateway.Relay.RelayBufferPool"/>),
    /// since both rent a 64 KB buffer per relayed message and a fan-out has thousands of tunnels holding one at once. Call it first thing.
    /// </summary>
    public static void ApplyForRelay(string[] args)
    {
        if (args is ["serve-relay", ..])
        {
            Tcm.Gateway.Relay.RelayBufferPool.ConfigureProcess();
        }
    }

    /// <summary>Removes the settings this process made from a server's environment.</summary>
    public static void RemoveFrom(IDictionary<string, string?> environment)
    {
        foreach (var variable in Set)
        {
            environment.Remove(variable);
        }
    }
}
