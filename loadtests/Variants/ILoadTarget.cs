namespace Tcm.LoadTests.Variants;

/// <summary>
/// The seam between a load test and the system it loads. A test is written once against this interface; each variant
/// supplies a target: <c>baseline</c> is bare Kestrel and bare <c>ClientWebSocket</c> (see <c>Baseline/BaselineTarget</c>),
/// <c>tcm</c> is the real Notification Server in its own process with the real agent (see <c>TcmVariant/TcmTarget</c>). The same test code then
/// measures both in one invocation and reports TCM's figures as ratios to the baseline's.
/// </summary>
/// <remarks>
/// Lifecycle: <see cref="StartAsync"/> once (start or attach to the server side), any number of
/// <see cref="ConnectAsync"/> / <see cref="PushToAllAsync"/> / <see cref="MeasureAsync"/> / <see cref="RestartAsync"/>,
/// then <see cref="IAsyncDisposable.DisposeAsync"/>. Every member may be called from many threads.
/// </remarks>
internal interface ILoadTarget : IAsyncDisposable
{
    /// <summary><c>baseline</c> or <c>tcm</c>.</summary>
    string Variant { get; }

    /// <summary>The system under test in words, for the report ("bare Kestrel, TLS, HTTP/1.1, server in its own process").</summary>
    string Description { get; }

    /// <summary>WebSockets each agent holds (1 for an NS channel over HTTP/1.1; 2 when NS and TS channels share one HTTP/2 connection).</summary>
    int ChannelsPerAgent { get; }

    /// <summary>Starts (or attaches to) the server side.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes agent <paramref name="agentIndex"/> from cold to its channel(s) open: TCP, TLS, upgrade (and, for TCM,
    /// registration and hello). Pushes it receives are reported to <paramref name="observer"/> and answered.
    /// </summary>
    Task<IAgentChannel> ConnectAsync(int agentIndex, IPushObserver observer, CancellationToken cancellationToken);

    /// <summary>
    /// Has the server send one small message of <paramref name="sizeBytes"/> to every agent connected by this process
    /// (this shard's group) and waits until each has answered or <paramref name="timeout"/> passes.
    /// </summary>
    Task<FanoutResult> PushToAllAsync(int sizeBytes, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="PushToAllAsync"/>, by the same path, but to this process's warm-up agents only (those connected with a negative
    /// number, outside the fleet): a small fan-out, so a warm-up can run the once-per-fan-out code many times at little cost.
    /// </summary>
    Task<FanoutResult> PushToWarmUpAgentsAsync(int sizeBytes, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Stops the server (dropping every connection), waits <paramref name="downtime"/>, and starts it again on the same address.</summary>
    Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken);

    /// <summary>The server's own figures; with <paramref name="fullCollect"/> after a full, compacting garbage collection.</summary>
    Task<ServerSnapshot> MeasureAsync(bool fullCollect, CancellationToken cancellationToken);
}

/// <summary>One agent's open channel(s).</summary>
internal interface IAgentChannel : IAsyncDisposable
{
    /// <summary>The agent's number.</summary>
    int AgentIndex { get; }

    /// <summary>Completes when any of the agent's channels drops (server gone, connection reset). Never faults.</summary>
    Task Closed { get; }
}

/// <summary>Receives what agents observe, for the statistics.</summary>
internal interface IPushObserver
{
    /// <summary>A push arrived <paramref name="latency"/> after the server sent it.</summary>
    void OnPushDelivered(TimeSpan latency, int sizeBytes);
}

/// <summary>An observer that ignores everything.</summary>
internal sealed class NullPushObserver : IPushObserver
{
    public static NullPushObserver Instance { get; } = new();

    public void OnPushDelivered(TimeSpan latency, int sizeBytes)
    {
    }
}

/// <summary>The outcome of one fan-out.</summary>
internal sealed record FanoutResult
{
    /// <summary>Messages the server sent.</summary>
    public int Sent { get; init; }

    /// <summary>Answers the server received before the timeout.</summary>
    public int Echoed { get; init; }

    /// <summary>Sends that failed at the server.</summary>
    public int SendFailures { get; init; }

    /// <summary>From the first send to the last answer (or the timeout), milliseconds.</summary>
    public double TimeToAllEchoedMs { get; init; }

    /// <summary>Round trips (send to answer received by the server), microseconds.</summary>
    public HistogramData RoundTrip { get; init; } = new();
}

/// <summary>The server's figures at one moment.</summary>
internal sealed record ServerSnapshot
{
    public int ProcessId { get; init; }

    /// <summary>WebSockets open.</summary>
    public long WebSockets { get; init; }

    /// <summary>Distinct TCP connections carrying those WebSockets.</summary>
    public long Connections { get; init; }

    /// <summary>WebSocket upgrades accepted since the server (re)started.</summary>
    public long Accepted { get; init; }

    /// <summary>Most upgrades accepted within one second since the server (re)started.</summary>
    public long PeakAcceptsPerSecond { get; init; }

    /// <summary>Managed heap after the requested collection, bytes.</summary>
    public long ManagedBytes { get; init; }

    /// <summary>Working set of the server process, bytes.</summary>
    public long WorkingSetBytes { get; init; }

    /// <summary>Process CPU time before the collection, milliseconds.</summary>
    public double CpuMsBeforeCollect { get; init; }

    /// <summary>Process CPU time after the collection, milliseconds.</summary>
    public double CpuMsAfterCollect { get; init; }

    /// <summary>When the figures were taken (Stopwatch timestamp, comparable across processes on one machine).</summary>
    public long Timestamp { get; init; }

    /// <summary>
    /// The CEM gateway's figures taken at the same moment, when the agents go through one (<see cref="AgentRoute.Gateway"/>):
    /// <see cref="WebSockets"/> are its tunnels, <see cref="Connections"/> its agent TLS connections, CPU from its process.
    /// </summary>
    public ServerSnapshot? Gateway { get; init; }

    /// <summary>The Task Server's process figures (working set and CPU, read from outside; no managed heap), when there is one.</summary>
    public ServerSnapshot? TaskServer { get; init; }

    /// <summary>The process ids of the Notification Server's further nodes (2 to N), when it runs on several; <see cref="ProcessId"/> is node 1's.</summary>
    public IReadOnlyList<int> OtherNodes { get; init; } = [];

    /// <summary>The PostgreSQL postmaster the Notification Server's store runs on (its backends are below it), when it is on this machine; else 0.</summary>
    public int PostgresProcessId { get; init; }

    /// <summary>The baseline's bare relay (<see cref="Baseline.Relay.BareRelay"/>), on the gateway route; else 0.</summary>
    public int RelayProcessId { get; init; }
}
