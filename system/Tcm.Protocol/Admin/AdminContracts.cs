namespace Tcm.Protocol.Admin;

/// <summary>Notification Server settings, <c>GET/PUT /tcm/admin/settings</c>.</summary>
public sealed record ServerSettings
{
    /// <summary>"Time critical management: Communication". Off by default: no agent gets a persistent connection until an admin enables it.</summary>
    public bool TcmEnabled { get; init; }
}

/// <summary>
/// Which agents a profile or a settings policy applies to. An agent is targeted when <see cref="All"/> is set,
/// or its id or computer name is in <see cref="Agents"/>, or every rule in <see cref="Rules"/> matches (and there is at least one).
/// </summary>
public sealed record Targets
{
    public bool All { get; init; }
    /// <summary>Agent ids or computer names.</summary>
    public IReadOnlyList<string> Agents { get; set; } = [];
    /// <summary>Attribute rules, all of which must match.</summary>
    public IReadOnlyList<TargetRule> Rules { get; set; } = [];

    /// <summary>Every agent.</summary>
    public static Targets Everyone { get; } = new() { All = true };
}

/// <summary>
/// Matches an agent attribute against a pattern (<c>*</c> and <c>?</c> wildcards, case-insensitive).
/// Attributes: <c>computerName</c>, <c>domain</c>, <c>os</c>, and any attribute the agent registered with (<c>site</c>, <c>group</c>, ...).
/// </summary>
public sealed record TargetRule(string Attribute, string Pattern);

/// <summary>A communication profile: how targeted agents talk to the Notification Server.</summary>
public sealed record CommunicationProfile
{
    public string Id { get; set; } = "";
    public required string Name { get; init; }
    /// <summary>Lower first: an agent gets the first profile (by priority, then name) whose targets include it.</summary>
    public int Priority { get; set; } = 100;
    /// <summary>NS host:port names the agent calls directly. Empty: the server's own public address.</summary>
    public IReadOnlyList<string> ServerHosts { get; set; } = [];
    public bool UseHttps { get; set; } = true;
    /// <summary>"Persistent connection is enabled".</summary>
    public bool PersistentConnection { get; set; } = true;
    public CemSettings? Cem { get; init; }
    /// <summary>Proxy settings; null: "No proxy settings are specified for this communication profile". The password is never returned.</summary>
    public ProxySettings? Proxy { get; init; }
    public Targets Targets { get; set; } = Targets.Everyone;
}

/// <summary>A targeted agent settings policy.</summary>
public sealed record TargetedAgentSettings
{
    public string Id { get; set; } = "";
    public required string Name { get; init; }
    /// <summary>Lower first: an agent gets the first policy whose targets include it; none means defaults.</summary>
    public int Priority { get; set; } = 100;
    public AgentSettings Settings { get; set; } = new();
    public Targets Targets { get; set; } = Targets.Everyone;
}

/// <summary>How the agent currently reaches its server.</summary>
public enum ConnectionMode
{
    /// <summary>Not connected, or not known yet.</summary>
    Offline,
    /// <summary>Calls the server directly.</summary>
    Direct,
    /// <summary>Calls the CEM Internet Gateway.</summary>
    Cem,
}

/// <summary>What carries the agent's traffic.</summary>
public enum TransportKind
{
    /// <summary>Plain HTTP requests, polling.</summary>
    Http,
    /// <summary>The persistent WebSocket channel.</summary>
    Persistent,
}

/// <summary>The agent's Network Status panel, as in the product: one per connection (NS, TS).</summary>
public sealed record NetworkStatus
{
    /// <summary>"Notification Server:" line: the address and how it is reached.</summary>
    public string? ServerAddress { get; init; }
    public ConnectionMode Mode { get; init; }
    /// <summary>"Available directly", "Available via internet gateway", "Not available".</summary>
    public string Availability { get; set; } = "Not available";
    /// <summary>"CEM Mode:" line.</summary>
    public string CemState { get; set; } = "Cloud-enabled Management mode is not active";
    public TransportKind Transport { get; init; }
    /// <summary>"Server Connection: Persistent" or "HTTP"; with a reason when persistent is not used.</summary>
    public string? TransportDetail { get; init; }
    public string? TlsProtocol { get; init; }
    public string? CipherSuite { get; init; }
    public string? GatewayTlsProtocol { get; init; }
    public string? GatewayCipherSuite { get; init; }
    /// <summary>Through the gateway: the TLS of the gateway's own connection to the server, as the gateway reports it.</summary>
    public string? BackendTlsProtocol { get; init; }
    public string? BackendCipherSuite { get; init; }
    /// <summary>"View Notification Server certificate" (the Task Server's on its connection), once the agent saw it.</summary>
    public CertificateInfo? ServerCertificate { get; init; }
    /// <summary>"View internet gateway certificate", once the agent saw it.</summary>
    public CertificateInfo? GatewayCertificate { get; init; }
    /// <summary>"Peer Downloading:" line: what the agent does (it downloads packages only from codebases, never from peers).</summary>
    public string? PeerDownloading { get; init; }
    /// <summary>"Network Usage:" line: the bandwidth the agent allows itself (it throttles nothing).</summary>
    public string? NetworkUsage { get; init; }
    /// <summary>What the last attempt tried and what answered.</summary>
    public ConnectionAttempt? LastAttempt { get; init; }
    public long BytesSent { get; init; }
    public long BytesReceived { get; init; }
    public DateTimeOffset? ConnectedSince { get; init; }
    /// <summary>Why the mode is what it is (the routing decision's reason).</summary>
    public string? RouteReason { get; init; }
    /// <summary>The proxy (<c>host:port</c>) the last connection went through; null: direct.</summary>
    public string? Proxy { get; init; }
    /// <summary>Why the proxy failed the last time it did (unreachable, credentials refused, ...), until a tunnel through it opens again.</summary>
    public string? ProxyProblem { get; init; }
    /// <summary>The Client Task Agent's Task Server connection, once there is one.</summary>
    public NetworkStatus? TaskServer { get; init; }
}

/// <summary>An agent as the admin API lists it.</summary>
public sealed record AgentInfo
{
    public required string Id { get; init; }
    public required string ComputerName { get; init; }
    public string? Domain { get; init; }
    public string? OsName { get; init; }
    public IReadOnlyDictionary<string, string> Attributes { get; set; } = new Dictionary<string, string>();
    public string? ProfileId { get; init; }
    public DateTimeOffset RegisteredAt { get; init; }
    public DateTimeOffset? LastContact { get; init; }
    /// <summary>Whether a persistent connection is open right now.</summary>
    public bool Connected { get; init; }
    public ConnectionMode Mode { get; init; }
    public TransportKind Transport { get; init; }
    /// <summary>The route the agent reported (<c>direct</c>, <c>cem</c>), and through which gateway.</summary>
    public string? Route { get; init; }
    /// <summary>The Notification Server node that holds the agent's persistent connection (several NS nodes share one database); null when none does.</summary>
    public string? Node { get; init; }
    public long BytesSent { get; init; }
    public long BytesReceived { get; init; }
    public long LastAckedSeq { get; init; }
    public long PendingPushes { get; init; }
    /// <summary>The agent's own Network Status as it last reported it.</summary>
    public NetworkStatus? NetworkStatus { get; init; }
}

/// <summary>A page of agents.</summary>
public sealed record AgentPage(IReadOnlyList<AgentInfo> Items, int Total, int Skip, int Take);

/// <summary>Counts of the fleet by state.</summary>
public sealed record FleetSummary
{
    public int Total { get; init; }
    public int Persistent { get; init; }
    public int Http { get; init; }
    public int Direct { get; init; }
    public int Cem { get; init; }
    public int Offline { get; init; }
}

/// <summary>Push a task to targets, <c>POST /tcm/admin/actions/task</c>.</summary>
public sealed record PushTaskRequest : ITaskDefinition
{
    public required string Command { get; init; }
    public string? Name { get; init; }
    public IReadOnlyDictionary<string, string>? Parameters { get; init; }
    public int TimeoutSeconds { get; set; } = 300;
    public required Targets Targets { get; init; }
    /// <summary>Optional: the task must not start after this time; targets still pending then become <c>expired</c>. Null: no limit.</summary>
    public DateTimeOffset? NotAfter { get; init; }
    /// <summary>Optional: run at once, without waiting for the target's maintenance window.</summary>
    public bool Urgent { get; init; }
    /// <summary>Send to the targets in waves with a brake, instead of to all at once; null: all at once.</summary>
    public WavePlan? Waves { get; init; }
}

/// <summary>Push the current policy to targets now, <c>POST /tcm/admin/actions/policy</c>.</summary>
public sealed record PushPolicyRequest
{
    public required Targets Targets { get; init; }
    /// <summary>Send to the targets in waves with a brake, instead of to all at once; null: all at once.</summary>
    public WavePlan? Waves { get; init; }
}

/// <summary>On-demand inventory, <c>POST /tcm/admin/actions/inventory</c>.</summary>
public sealed record InventoryNowRequest
{
    public IReadOnlyList<string>? Classes { get; init; }
    public required Targets Targets { get; init; }
    /// <summary>Send to the targets in waves with a brake, instead of to all at once; null: all at once.</summary>
    public WavePlan? Waves { get; init; }
}

/// <summary>What an action push returned.</summary>
public sealed record ActionCreated(string ActionId, string Kind, int TargetCount, int SentOverChannel);

/// <summary>
/// What <c>POST /tcm/admin/actions/{id}/cancel</c> did: <see cref="Cancelled"/> targets (pending or delivered, not started) are now
/// <c>cancelled</c>; <see cref="CancelsSent"/> agents got a <c>task.cancel</c> on their channel; <see cref="Running"/> targets were running,
/// and stay so until their agent reports (<c>cancelled</c> when it stopped the task).
/// </summary>
public sealed record ActionCancelled(string ActionId, int Cancelled, int CancelsSent, int Running);

/// <summary>An action with per-agent status, <c>GET /tcm/admin/actions/{id}</c>.</summary>
public sealed record ActionStatus
{
    public required string ActionId { get; init; }
    /// <summary><c>task</c>, <c>policy</c> or <c>inventory</c>.</summary>
    public required string Kind { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public required IReadOnlyDictionary<string, int> Counts { get; init; }
    /// <summary>Pending targets whose push is stored and still waits for room to be sent (the server is carrying more than it can send at once); 0 once all went out.</summary>
    public int Waiting { get; init; }
    public required IReadOnlyList<ActionTargetStatus> Targets { get; init; }
    /// <summary>The action's waves, when it goes out in waves; null when it went to all its targets at once.</summary>
    public ActionWaves? Waves { get; init; }
}

/// <summary>One agent's progress on an action.</summary>
public sealed record ActionTargetStatus
{
    public required string AgentId { get; init; }
    public required string ComputerName { get; init; }
    public required Tcm.Protocol.TaskState State { get; init; }
    /// <summary><c>persistent</c> or <c>http</c>: how the push reached the agent.</summary>
    public string? DeliveredVia { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public string? Output { get; init; }
    public int? ExitCode { get; init; }
    /// <summary>Number of times a result for this target arrived (1 when exactly-once holds).</summary>
    public int ResultCount { get; init; }
    /// <summary>The wave (from 1) this target is in, when the action goes out in waves.</summary>
    public int? Wave { get; init; }
}

/// <summary>
/// <c>GET /tcm/admin/profiles/{id}/checks</c>: what in a communication profile does not match the servers this Notification
/// Server knows (a gateway address no registered gateway answers on, a port another than the server's). A profile with
/// problems is still saved (a firewall may forward ports the server cannot see); its save answers carry each problem in an
/// <c>X-Tcm-Problem</c> header.
/// </summary>
public sealed record ProfileChecks(string ProfileId, IReadOnlyList<ProfileProblem> Problems);

/// <summary>One mismatch: the profile's field (<c>cem.gatewayAddress</c>, <c>serverHosts[0]</c>) and what is wrong, for a person.</summary>
public sealed record ProfileProblem(string Field, string Detail);

/// <summary>
/// A CEM gateway registered with this Notification Server, <c>GET /tcm/admin/gateways</c>: its latest report (null until the
/// gateway sends one: a gateway older than the report, or one that has not reached this server yet) and the decisions it has
/// not applied yet.
/// </summary>
public sealed record GatewayView
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public bool Registered { get; init; }
    public string? Address { get; init; }
    /// <summary>When this server received the latest report (its clock).</summary>
    public DateTimeOffset? ReportedAt { get; init; }
    /// <summary>True when no report arrived for three of the gateway's report intervals.</summary>
    public bool Stale { get; init; }
    /// <summary>Whether the gateway's decision poll is open now (a decision reaches it at once).</summary>
    public bool Polling { get; init; }
    public GatewayReport? Report { get; init; }
    public IReadOnlyList<GatewayDecision> PendingDecisions { get; set; } = [];
}
