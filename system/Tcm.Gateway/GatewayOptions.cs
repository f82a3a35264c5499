using Tcm.Hosting.Listeners;
using Tcm.Protocol;

namespace Tcm.Gateway;

/// <summary>
/// Options of the CEM Internet Gateway, bound from the configuration section <c>Gateway</c> and validated when the host
/// starts (<see cref="GatewayOptionsValidator"/>).
/// </summary>
public sealed class GatewayOptions : TcmServerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Gateway";

    /// <summary>
    /// Defaults: data in <c>data/gateway</c> (the identity <c>identity/</c>, certificate approvals, the generated admin key), port
    /// 8443, the gateway's own admission (<see cref="GatewayAdmission"/>).
    /// </summary>
    public GatewayOptions()
        : base("data/gateway", ProtocolConstants.DefaultGatewayPort)
    {
        Admission = GatewayAdmission();
    }

    /// <summary>
    /// The gateway's admission defaults (section <c>Gateway:Admission</c>). A handshake place is held through the whole connect
    /// (TLS, the HTTP/2 preface and the first request, to its relayed upgrade accepted by the backend), at most 10 seconds from
    /// admission, so the gateway starts TLS handshakes only as fast as it finishes connects: when the place covered TLS alone, a
    /// 10,000-agent storm did not converge (docs/benchmarks.md, issue 16). 128 places at once, twice the servers' 64, because a
    /// place now also waits for the agent's preface and for the backend. The servers' queue of 10,000 and 15-second timeout: a
    /// connection refused at once (a queue of 4,000 before) cost each agent a new connection, TLS start and retry, and in that
    /// storm the agents' retries (74,000 refusals in a minute) took the CPU their handshakes needed; a queued one costs nothing
    /// while it waits. The gateway has no upgrade stage: the server behind it admits the relayed upgrades.
    /// </summary>
    public static AdmissionOptions GatewayAdmission() => new() { MaxConcurrentHandshakes = 128, ConnectHoldLimit = TimeSpan.FromSeconds(10) };

    /// <summary>The gateway's name: in refusals, logs, the <c>X-Tcm-Via</c> header and its site-server registration. Default <see cref="Environment.MachineName"/>.</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>The only addresses the gateway relays to. At least one Notification Server. Default empty (invalid).</summary>
    public List<GatewayBackendOptions> Backends { get; set; } = [];

    /// <summary>Extra NS CA certificates (PEM files) whose agents are accepted, beyond the CAs fetched at registration. Default empty.</summary>
    public List<string> CaCertificateFiles { get; set; } = [];

    /// <summary>
    /// When true, a client certificate that no configured CA issued is held (refused with <c>certificate-held</c> and listed as
    /// pending) until an administrator approves or blocks it; when false it is refused with <c>bad-certificate</c>. Default false.
    /// </summary>
    public bool HoldUnknownCertificates { get; set; }

    /// <summary>
    /// A tunnel with no byte in either direction for this long is closed (YARP's activity timeout of a relayed WebSocket; it
    /// also bounds the wait for the backend's answer to the opening). A channel whose agent announced its keep-alive has no idle
    /// timeout (its agent's silence ends it, <c>KeepAlive/TunnelWatch</c>) and waits for the backend's answer at least two
    /// <see cref="RelayedKeepAliveInterval"/>s and one of its own (see <c>KeepAlive/RelayedKeepAlive</c>). Default 2 minutes.
    /// </summary>
    public TimeSpan TunnelIdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// For a channel whose agent announced its keep-alive interval (<c>X-Tcm-Keep-Alive</c>), the gateway answers the agent's
    /// WebSocket pings itself, ends the tunnel when the agent sent nothing for two of its intervals, and keeps the backend leg
    /// alive with one of the agent's pings per this interval (the agent's own when longer), which it announces to the backend in
    /// the agent's stead (half of it and the agent's when that is longer, see <c>KeepAlive/RelayedKeepAlive</c>). Zero relays
    /// every ping end to end, as before. Default 5 minutes: the backend leg is an HTTP/2 stream on a connection the gateway pings
    /// every <see cref="BackendKeepAlivePingDelay"/>, so no middlebox sees it idle; a backend then closes the channel of a gateway
    /// that vanished without a reset after 10 minutes (for agents whose interval is at most half of it).
    /// </summary>
    public TimeSpan RelayedKeepAliveInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>An inbound HTTP connection with no request in flight is closed after this long (Kestrel keep-alive). Default 2 minutes.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// HTTP/2 keep-alive ping on each agent connection after this long without a frame from the agent; zero disables, else at
    /// least 1 second. Default zero (off): the channels' own keep-alive, end to end, and <see cref="TunnelIdleTimeout"/> find a
    /// dead agent's tunnel, and <see cref="KeepAliveTimeout"/> then closes its connection (see <see cref="GatewayKeepAlive"/>).
    /// </summary>
    public TimeSpan Http2KeepAlivePingDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// HTTP/2 keep-alive ping on each backend connection while it carries requests or tunnels; zero disables, else at least
    /// 1 second. Default 30 seconds.
    /// </summary>
    public TimeSpan BackendKeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an HTTP/2 keep-alive ping (either side) may wait for its acknowledgement, at least 1 second. Default 20 seconds.</summary>
    public TimeSpan Http2KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Time to open a connection to a backend (TCP and TLS). Default 10 seconds.</summary>
    public TimeSpan BackendConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time a backend may take to answer a relayed request's headers (and a tunnel's upgrade). Default 100 seconds.</summary>
    public TimeSpan BackendResponseTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// How often the gateway reports its counters and held certificates to each Notification Server it is registered with when
    /// nothing changes (a change is reported within a second), and keeps a long poll open there for the administrator's
    /// approve and block decisions; zero turns the link off (the gateway's own endpoints stay). Default 10 seconds.
    /// </summary>
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest number of concurrent HTTP/2 streams (tunnels, requests) one agent connection may open. Default 8.</summary>
    public int MaxStreamsPerAgentConnection { get; set; } = 8;

    /// <summary>
    /// Kestrel's socket transport goes on with the TLS and HTTP work of a received segment on the thread that received it, and
    /// sends on the thread that wrote (<c>SocketTransportOptions.UnsafePreferInlineScheduling</c>), instead of handing each step
    /// to the thread pool. Default true: the gateway's work never blocks, and at 4,000 idle agents nearly every such hand-over woke
    /// a parked worker (a futex call and a context switch, about four per segment received; docs/benchmarks.md, issue 16).
    /// </summary>
    public bool InlineSocketScheduling { get; set; } = true;
}

/// <summary>One backend the gateway relays to.</summary>
public sealed class GatewayBackendOptions
{
    /// <summary>Name shown in counters and logs, and the key of the backend's identity folder entries. Required.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>host:port</c> exactly as agents address it after <c>/relay/</c>, and as the gateway dials it. Required.</summary>
    public string Address { get; set; } = "";

    /// <summary>
    /// <c>host:port</c> the gateway opens its socket to when it differs from <see cref="Address"/> (a backend behind another
    /// name, or the simulator's lab where backends have simulated names); TLS is still validated against <see cref="Address"/>'s
    /// host. Default null: dial <see cref="Address"/>.
    /// </summary>
    public string? ConnectTo { get; set; }

    /// <summary>
    /// Several Notification Server nodes serving this one backend (they share one database): the <c>host:port</c> of each, which the
    /// gateway dials in turn, starting with the one that last answered, going to the next when one does not accept the connection. TLS is
    /// validated against <see cref="Address"/>'s host, as for <see cref="ConnectTo"/>, which it replaces. Default empty: one destination.
    /// </summary>
    public List<string> Destinations { get; set; } = [];

    /// <summary>Notification Server or Task Server. Default <see cref="BackendKind.NotificationServer"/>.</summary>
    public BackendKind Kind { get; set; } = BackendKind.NotificationServer;

    /// <summary>
    /// NS backends: the one-time site-server token the NS administrator created (<c>POST /tcm/admin/site-servers</c>, kind
    /// gateway). Used once, when <c>identity/{Name}.pfx</c> does not exist yet. Default null.
    /// </summary>
    public string? RegistrationToken { get; set; }

    /// <summary>The backend's CA (PEM file). NS backends: default null, fetched at registration into <c>identity/{Name}.ca.pem</c>.</summary>
    public string? CaCertificateFile { get; set; }

    /// <summary>
    /// TS backends: the name of the NS backend whose CA issued the Task Server's certificate; the gateway presents that NS's
    /// site-server certificate to it. Default null: the first NS backend.
    /// </summary>
    public string? Identity { get; set; }
}

/// <summary>What a backend is.</summary>
public enum BackendKind
{
    /// <summary>A Notification Server: the gateway registers with it and holds a certificate from its CA.</summary>
    NotificationServer,

    /// <summary>A Task Server: reached with the identity of the NS it belongs to.</summary>
    TaskServer,
}
