using System.Text.Json.Serialization;

namespace Tcm.Protocol;

/// <summary>
/// What an agent install package holds: built by the Notification Server from a communication profile
/// (admin API <c>POST /tcm/admin/profiles/{id}/package</c>), read by the agent at first start.
/// </summary>
public sealed record InstallPackage
{
    /// <summary>Base address of the Notification Server, e.g. <c>https://ns.example:4443</c>.</summary>
    public required string ServerUrl { get; init; }
    /// <summary>Secret the agent presents once to register. Valid until the admin revokes the package.</summary>
    public required string RegistrationToken { get; init; }
    /// <summary>PEM of the server's CA; the agent trusts the NS (and the gateway) only through it.</summary>
    public required string CaCertificatePem { get; init; }
    public string? ProfileId { get; init; }
    public string? ProfileName { get; init; }
    /// <summary>CEM settings known at install time, so an agent that starts on the internet can register through the gateway.</summary>
    public CemSettings? Cem { get; init; }
    /// <summary>The profile's proxy settings, so an agent that can only leave through a proxy can register.</summary>
    public ProxySettings? Proxy { get; init; }
}

/// <summary>Agent to server, <see cref="TcmPaths.Register"/>.</summary>
public sealed record RegisterRequest
{
    public required string RegistrationToken { get; init; }
    public required string ComputerName { get; init; }
    public string? Domain { get; init; }
    public string? OsName { get; init; }
    /// <summary>A PKCS#10 certificate signing request (PEM) for the agent's own key pair; the server signs it. The private key never leaves the agent.</summary>
    public required string CertificateSigningRequestPem { get; init; }
    /// <summary>Free attributes targets can match on (site, group, department, ...).</summary>
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }
    /// <summary>When re-registering after losing state, the previous id, so the server can keep history.</summary>
    public string? PreviousAgentId { get; init; }
}

/// <summary>Server to agent, answer to <see cref="RegisterRequest"/>.</summary>
public sealed record RegisterResponse
{
    public required string AgentId { get; init; }
    /// <summary>The agent's client certificate (PEM), subject <c>CN={AgentId}</c>, signed by the server CA.</summary>
    public required string ClientCertificatePem { get; init; }
    public required string CaCertificatePem { get; init; }
    public required PolicyDocument Policy { get; init; }
}

/// <summary>
/// An agent's whole configuration from its Notification Server: the communication profile that targets it,
/// the targeted agent settings, and the server's TCM switch. Versioned by <see cref="Etag"/>.
/// </summary>
public sealed record PolicyDocument
{
    public required string Etag { get; init; }
    public required string AgentId { get; init; }
    /// <summary>The server setting "TCM communication". Off by default.</summary>
    public bool TcmEnabled { get; init; }
    public required CommunicationSettings Communication { get; init; }
    public required AgentSettings Settings { get; init; }
    /// <summary>Task Servers the Client Task Agent may use, with the selection method.</summary>
    public TaskServerPolicy? TaskServers { get; init; }
    /// <summary>Packages the agent should have; each with its codebases.</summary>
    public IReadOnlyList<PackageReference>? Packages { get; init; }
}

/// <summary>From the communication profile that targets the agent.</summary>
public sealed record CommunicationSettings
{
    public string? ProfileId { get; init; }
    public string? ProfileName { get; init; }
    /// <summary>Notification Server host names the agent may call directly (host:port).</summary>
    public required IReadOnlyList<string> ServerHosts { get; init; }
    public bool UseHttps { get; set; } = true;
    /// <summary>"Persistent connection is enabled" on the profile.</summary>
    public bool PersistentConnection { get; init; }
    /// <summary>CEM (Internet Gateway) settings; null when the profile has none.</summary>
    public CemSettings? Cem { get; init; }
    /// <summary>The proxy the agent's connections go through; null: none. An agent that predates proxies ignores it.</summary>
    public ProxySettings? Proxy { get; init; }
}

/// <summary>Cloud-enabled Management: how to reach the CEM Internet Gateway.</summary>
public sealed record CemSettings
{
    /// <summary>Gateway host:port as the agent dials it.</summary>
    public required string GatewayAddress { get; init; }
    /// <summary>PEM of the CA the gateway's certificate chains to; empty means the NS CA.</summary>
    public string? GatewayCaCertificatePem { get; init; }
    /// <summary>Whether an admin switched the settings on.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>Targeted agent settings.</summary>
public sealed record AgentSettings
{
    /// <summary>How often the agent requests its policy over HTTP when it has no channel. Default 60 minutes.</summary>
    public int PolicyRefreshSeconds { get; set; } = 3600;
    /// <summary>How often the agent polls for tasks over HTTP when it has no channel. Default 60 minutes.</summary>
    public int TaskPollSeconds { get; set; } = 3600;
    /// <summary>"VPN Adapters Detection": adapter names or descriptions, <c>*</c> and <c>?</c> wildcards, case-insensitive.</summary>
    public IReadOnlyList<string> VpnAdapters { get; set; } = [];
    /// <summary>"Prefer CEM gateway connection".</summary>
    public bool PreferCem { get; init; }
    /// <summary>"Prefer CEM gateway connection if VPN connection is established".</summary>
    public bool PreferCemIfVpn { get; init; }
    /// <summary>WebSocket ping interval of persistent connections.</summary>
    public int KeepAliveSeconds { get; set; } = 30;
    /// <summary>
    /// When the agent may start a task that is not urgent (<see cref="TaskPushMessage.Urgent"/>): a task that arrives outside every window
    /// waits for the next one to open. Null or empty: always. An agent that predates windows ignores them.
    /// </summary>
    public IReadOnlyList<MaintenanceWindow>? MaintenanceWindows { get; init; }
}

/// <summary>How the Client Task Agent picks a Task Server.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TaskServerSelection>))]
public enum TaskServerSelection
{
    [JsonStringEnumMemberName("fewest-computers")] FewestComputers,
    [JsonStringEnumMemberName("available-capacity")] AvailableCapacity,
    [JsonStringEnumMemberName("ordered-list")] OrderedList,
}

/// <summary>The Task Servers offered to an agent.</summary>
public sealed record TaskServerPolicy
{
    public TaskServerSelection Selection { get; set; } = TaskServerSelection.FewestComputers;
    public required IReadOnlyList<TaskServerEntry> Servers { get; init; }
}

/// <summary>One Task Server as the policy lists it.</summary>
public sealed record TaskServerEntry
{
    public required string Id { get; init; }
    /// <summary>host:port.</summary>
    public required string Address { get; init; }
    public int RegisteredAgents { get; init; }
    public int MaxAgents { get; set; } = 5000;
    public string? Site { get; init; }
}

/// <summary>A package and where it can be downloaded from.</summary>
public sealed record PackageReference
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public long SizeBytes { get; init; }
    public required IReadOnlyList<Codebase> Codebases { get; init; }
}

/// <summary>Kinds of package codebase.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CodebaseKind>))]
public enum CodebaseKind
{
    [JsonStringEnumMemberName("unc")] Unc,
    [JsonStringEnumMemberName("http")] Http,
    [JsonStringEnumMemberName("https")] Https,
}

/// <summary>One place a package can be downloaded from.</summary>
public sealed record Codebase
{
    public required CodebaseKind Kind { get; init; }
    /// <summary>A UNC path or URL.</summary>
    public required string Location { get; init; }
    /// <summary>
    /// The site the codebase serves (compared with the agent's <c>site</c> attribute, case-insensitive), e.g. <c>London</c>.
    /// Default null: the codebase serves every site (a public, internet codebase). Without a CEM preference the agent uses
    /// codebases at its own site first, then those without a site, then those at other sites.
    /// </summary>
    public string? Site { get; init; }
}

/// <summary>Agent events, <see cref="TcmPaths.Events"/>.</summary>
public sealed record EventBatch
{
    public required IReadOnlyList<AgentEvent> Events { get; init; }
    /// <summary>The agent's Network Status when it changed since the last post; the admin API shows it for agents without a channel.</summary>
    public Tcm.Protocol.Admin.NetworkStatus? NetworkStatus { get; init; }
}

/// <summary>One agent event.</summary>
public sealed record AgentEvent
{
    public required string Type { get; init; }
    public DateTimeOffset At { get; init; }
    public IReadOnlyDictionary<string, string>? Data { get; init; }
}

/// <summary>Basic inventory, <see cref="TcmPaths.Inventory"/> and <see cref="InventoryResultMessage"/>.</summary>
public sealed record BasicInventory
{
    public required string ComputerName { get; init; }
    public string? Domain { get; init; }
    public string? OsName { get; init; }
    public string? OsVersion { get; init; }
    public int ProcessorCount { get; init; }
    public long MemoryBytes { get; init; }
    public IReadOnlyList<string>? IpAddresses { get; init; }
    public string? LoggedOnUser { get; init; }
    public IReadOnlyList<InstalledSoftware>? Software { get; init; }
    public DateTimeOffset CollectedAt { get; init; }
}

/// <summary>One installed application.</summary>
public sealed record InstalledSoftware(string Name, string? Version, string? Publisher);

/// <summary>Answer to <see cref="TcmPaths.Tasks"/>: pushes not yet acknowledged, in sequence order.</summary>
public sealed record PendingPushes
{
    /// <summary>Each item is a <see cref="TaskPushMessage"/>, <see cref="PolicyPushMessage"/> or <see cref="InventoryRequestMessage"/>.</summary>
    public required IReadOnlyList<Message> Items { get; init; }
}

/// <summary>Answer to a result post: stored now, or already stored before (a duplicate, not an error).</summary>
public sealed record ResultReceipt
{
    public required string IdempotencyKey { get; init; }
    public bool Duplicate { get; init; }
}

/// <summary>The body of every 4xx/5xx answer of TCM's HTTP endpoints.</summary>
public sealed record ErrorBody
{
    /// <summary>Machine-readable, e.g. one of <see cref="CloseReasons"/>.</summary>
    public required string Code { get; init; }
    /// <summary>What went wrong and what to do, for a person.</summary>
    public required string Detail { get; init; }
}
