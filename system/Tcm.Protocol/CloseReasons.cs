namespace Tcm.Protocol;

/// <summary>
/// Why a server closes or refuses a channel. Sent as the WebSocket close description (as <c>code: text</c>)
/// or, when the upgrade itself is refused, as an <see cref="ErrorBody"/> with HTTP status 403/401/400.
/// </summary>
public static class CloseReasons
{
    /// <summary>The server setting "TCM communication" is off. Agent: use HTTP polling, retry at next policy.</summary>
    public const string TcmDisabled = "tcm-disabled";

    /// <summary>The agent's communication profile does not enable persistent connections, or the agent is in no profile's targets.</summary>
    public const string NotTargeted = "persistent-connection-not-enabled";

    /// <summary>No client certificate, or one not issued by this server's CA.</summary>
    public const string BadCertificate = "bad-certificate";

    /// <summary>The certificate is valid but names an agent the server does not know.</summary>
    public const string UnknownAgent = "unknown-agent";

    /// <summary>The hello named a protocol version the server does not speak.</summary>
    public const string UnsupportedVersion = "unsupported-version";

    /// <summary>A frame was not valid JSON, or not a valid message.</summary>
    public const string Malformed = "malformed-message";

    /// <summary>A message named a kind this version does not know.</summary>
    public const string UnknownKind = "unknown-kind";

    /// <summary>A message exceeded the maximum message size.</summary>
    public const string TooLarge = "message-too-large";

    /// <summary>A binary frame: the channel carries UTF-8 JSON text only.</summary>
    public const string BinaryNotSupported = "binary-not-supported";

    /// <summary>The first message was not a hello, or a hello came twice.</summary>
    public const string ProtocolViolation = "protocol-violation";

    /// <summary>A newer connection of the same agent replaced this one.</summary>
    public const string Replaced = "replaced-by-newer-connection";

    /// <summary>An administrator terminated the persistent connection.</summary>
    public const string Terminated = "terminated-by-administrator";

    /// <summary>The server is shutting down.</summary>
    public const string ServerShutdown = "server-shutdown";

    /// <summary>The agent did not send its hello in time.</summary>
    public const string HelloTimeout = "hello-timeout";

    /// <summary>Nothing came from the agent, not even its keep-alive ping, for two of the intervals it announced.</summary>
    public const string KeepAliveTimeout = "keep-alive-timeout";

    /// <summary>
    /// A Task Server holds its maximum of registered agents (default 5,000) and takes no new one (HTTP 403 on any of its agent
    /// endpoints and on the channel upgrade). Agent: fail over to the next Task Server of its policy.
    /// </summary>
    public const string TaskServerFull = "task-server-full";

    /// <summary>Gateway: the relay address names a backend (<c>host:port</c>) that is not configured on the gateway (403).</summary>
    public const string BackendNotConfigured = "backend-not-configured";

    /// <summary>Gateway: the request is not <c>/relay/{host}:{port}/...</c>, or is a kind of request the gateway does not relay (400/405).</summary>
    public const string MalformedRelayRequest = "malformed-relay-request";

    /// <summary>Gateway: the certificate is not issued by a configured CA and is held until an administrator approves it (403).</summary>
    public const string CertificateHeld = "certificate-held";

    /// <summary>Gateway: an administrator blocked this certificate (403).</summary>
    public const string CertificateBlocked = "certificate-blocked";

    /// <summary>Gateway: the configured backend could not be reached or failed mid-request (502/504).</summary>
    public const string BackendUnavailable = "backend-unavailable";

    /// <summary>
    /// The server takes channels at the rate it can finish them and has no place now (HTTP 503 on the channel upgrade, with
    /// <c>Retry-After</c> in seconds). Agent: not a refusal of the channel; try again after the hint plus its back-off's jitter.
    /// </summary>
    public const string ServerBusy = "server-busy";
}
