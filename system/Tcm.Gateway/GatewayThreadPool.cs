namespace Tcm.Gateway;

/// <summary>
/// How many thread-pool workers a process that is only a gateway (<c>tcm gateway</c>) runs at once: <see cref="WorkersPerCore"/>
/// per core. A gateway hosted beside other code (the lab, tests) keeps its process's pool.
/// <para>
/// why: the gateway's work is short steps that never block (TLS records, HTTP/2 frames, the relay's copies, the answered
/// pings), and Kestrel's heartbeat wakes every agent connection each second. The pool grows while work waits, as it does in a
/// connect storm (29 workers on two cores after 4,000 agents connected), and the workers stay, because each second's burst
/// of 4,000 connection wake-ups wakes every one of them, so none idles long enough to retire; <c>tcm</c> parks idle
/// workers (<c>UnfairSemaphoreSpinLimit</c> 0), so each wake is a futex call and a context switch (docs/benchmarks.md, issue
/// 16). Workers beyond a few per core buy such work nothing. A limit the operator set (runtimeconfig
/// <c>System.Threading.ThreadPool.MaxThreads</c>, <c>DOTNET_ThreadPool_ForceMaxWorkerThreads</c>) wins.
/// </para>
/// </summary>
public static class GatewayThreadPool
{
    /// <summary>Worker threads per core.</summary>
    public const int WorkersPerCore = 2;

    /// <summary>The worker limit for <paramref name="processorCount"/> cores.</summary>
    public static int MaxWorkers(int processorCount) => Math.Max(processorCount, 1) * WorkersPerCore;

    /// <summary>Limits this process's workers to <see cref="MaxWorkers"/>; false when the operator's own limit stands.</summary>
    public static bool ConfigureProcess()
    {
        ThreadPool.GetMaxThreads(out _, out var completionPortThreads);
        return ThreadPool.SetMaxThreads(MaxWorkers(Environment.ProcessorCount), completionPortThreads);
    }
}
