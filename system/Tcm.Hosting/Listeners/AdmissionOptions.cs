namespace Tcm.Hosting.Listeners;

/// <summary>
/// How many TLS handshakes and channel upgrades a server runs at once, and how long the rest may wait (section
/// <c>&lt;Server&gt;:Admission</c>). A connect storm then takes handshakes at the rate the server finishes them: the rest wait
/// in arrival order, and what cannot wait is refused at once (a closed connection before TLS, an HTTP 503
/// <c>server-busy</c> with <c>Retry-After</c> at the upgrade), instead of every handshake sharing the cores and timing out together.
/// </summary>
public sealed class AdmissionOptions
{
    /// <summary>TLS handshakes run at once; further connections wait before their handshake starts. Default 64.</summary>
    public int MaxConcurrentHandshakes { get; set; } = 64;

    /// <summary>Channel upgrades run at once, from the request to the welcome (NS and Task Server). Default 64.</summary>
    public int MaxConcurrentUpgrades { get; set; } = 64;

    /// <summary>
    /// Connections (or upgrades) that may wait for a place, per stage; one more is refused at once. Each waiting connection holds
    /// its socket. Default 10,000.
    /// </summary>
    public int MaxQueued { get; set; } = 10_000;

    /// <summary>
    /// How long a connection (or upgrade) may wait for a place before it is refused, at most <see cref="MaxQueueTimeout"/>; about
    /// the time the server takes to work through a full storm's queue at its handshake rate (4,000 agents at the ~400 a second a
    /// Notification Server on two shared cores finishes, docs/benchmarks.md, issue 16), so the agents of a storm are served in
    /// turn instead of timed out in turns. Default 15 seconds.
    /// </summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Zero: a connection's handshake place is given back once TLS is done (the Notification Server's and the Task Server's
    /// default: what follows TLS there is admitted at the channel upgrade). Above zero: the place is held through the connect, from
    /// admission through TLS and the HTTP/2 preface to the first request's end or its relayed upgrade accepted by the backend
    /// (<see cref="ConnectAdmission"/>), and given back at this limit after admission at the latest (the connection goes on); at
    /// most <see cref="MaxConnectHoldLimit"/>. The gateway's default is set in its own options. Default zero.
    /// </summary>
    public TimeSpan ConnectHoldLimit { get; set; } = TimeSpan.Zero;

    /// <summary>The longest <see cref="ConnectHoldLimit"/>: 30 seconds, the agent's request timeout.</summary>
    public static readonly TimeSpan MaxConnectHoldLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest <see cref="QueueTimeout"/>: 25 seconds. The agent gives up on a connection after its 30-second request timeout
    /// (TCP, TLS and the upgrade's answer); a connection that waits longer than that is served for nobody.
    /// </summary>
    public static readonly TimeSpan MaxQueueTimeout = TimeSpan.FromSeconds(25);
}
