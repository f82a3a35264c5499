namespace Tcm.Protocol.Admin;

/// <summary>What answered a connection attempt, classified so that support staff (and the simulator) can tell failures apart.</summary>
public enum AttemptOutcome
{
    /// <summary>The channel opened: the server took it.</summary>
    Connected,
    /// <summary>The address answered with a TCP reset: nothing listens on that port.</summary>
    ConnectionRefused,
    /// <summary>Nothing answered within the agent's timeout (a firewall that drops, a host that is down).</summary>
    Timeout,
    /// <summary>The network has no route to the address (the agent is outside the network the server is in).</summary>
    Unreachable,
    /// <summary>The host name does not resolve.</summary>
    NameNotResolved,
    /// <summary>TLS failed: the server's certificate was rejected (see <see cref="ConnectionAttempt.Certificate"/>), or the handshake broke.</summary>
    TlsFailure,
    /// <summary>An HTTP answer from something that is not a TCM server (a 404 without <c>X-Tcm-Refusal</c>, a web server's 200).</summary>
    NotTcm,
    /// <summary>The gateway does not relay to the server the agent asked for (<c>backend-not-configured</c>, with its list).</summary>
    BackendNotConfigured,
    /// <summary>The gateway relays to the server, but the server did not answer it (<c>backend-unavailable</c>).</summary>
    BackendUnavailable,
    /// <summary>A TCM server refused with a code (<c>server-busy</c> with <c>Retry-After</c>, <c>unknown-agent</c>, <c>tcm-disabled</c>...).</summary>
    Refused,
    /// <summary>Anything else (the connection dropped during the handshake, a protocol error).</summary>
    Failed,
}

/// <summary>
/// One connection's last attempt, as the Network Status shows it: what the agent tried (address and port, route, proxy) and what
/// answered. Kept per connection until the next attempt replaces it.
/// </summary>
public sealed record ConnectionAttempt
{
    /// <summary>When the attempt was made.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>The <c>host:port</c> the agent dialled: the server itself, or the gateway on the CEM route.</summary>
    public required string Address { get; init; }

    /// <summary>Direct, or CEM (through the gateway).</summary>
    public ConnectionMode Route { get; init; }

    /// <summary>On the CEM route: the server (<c>host:port</c>) the gateway was asked to relay to.</summary>
    public string? Target { get; init; }

    /// <summary>The HTTP proxy (<c>host:port</c>) the attempt went through; null when it went without one.</summary>
    public string? Proxy { get; init; }

    /// <summary>What answered, classified.</summary>
    public AttemptOutcome Outcome { get; init; }

    /// <summary>What answered, in words (null when it connected).</summary>
    public string? Detail { get; init; }

    /// <summary>The HTTP status of the answer, when there was one.</summary>
    public int? HttpStatus { get; init; }

    /// <summary>The refusal code (<c>X-Tcm-Refusal</c>), when a TCM server or the gateway refused.</summary>
    public string? RefusalCode { get; init; }

    /// <summary>A busy server's <c>Retry-After</c>, in seconds.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>With <see cref="AttemptOutcome.BackendNotConfigured"/>: the backends the gateway does relay to.</summary>
    public IReadOnlyList<string>? Backends { get; init; }

    /// <summary>With <see cref="AttemptOutcome.TlsFailure"/>: the certificate the server presented and why it was rejected.</summary>
    public CertificateInfo? Certificate { get; init; }
}

/// <summary>A server's certificate, as the panel's "View certificate" shows it.</summary>
public sealed record CertificateInfo
{
    public required string Subject { get; init; }
    public required string Issuer { get; init; }
    public DateTimeOffset NotBefore { get; init; }
    public DateTimeOffset NotAfter { get; init; }
    /// <summary>SHA-1 thumbprint, upper-case hex, as Windows shows it.</summary>
    public required string Thumbprint { get; init; }
    /// <summary>Why the agent rejected it; null for an accepted certificate.</summary>
    public string? ValidationError { get; init; }
}
