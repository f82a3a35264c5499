using System.Net;
using Tcm.Protocol;

namespace Tcm.Agent;

/// <summary>What an agent is and how it behaves; an immutable snapshot handed to <see cref="TcmAgent"/>.</summary>
public sealed record AgentOptions
{
    /// <summary>The install package the agent registers with (server URL, registration token, CA). Required.</summary>
    public required InstallPackage Package { get; init; }

    /// <summary>The computer name the agent registers as. Required.</summary>
    public required string ComputerName { get; init; }

    /// <summary>The computer's domain. Default <see langword="null"/>.</summary>
    public string? Domain { get; init; }

    /// <summary>The operating system name. Default <see langword="null"/> (the agent then reports <see cref="System.Runtime.InteropServices.RuntimeInformation.OSDescription"/>).</summary>
    public string? OsName { get; init; }

    /// <summary>Free attributes that targets can match on (site, group, ...). Default <see langword="null"/>.</summary>
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }

    /// <summary>The agent software version sent in hello. Default <c>"1.0"</c>.</summary>
    public string AgentVersion { get; init; } = "1.0";

    /// <summary>
    /// The HTTP version the agent asks for, on the channel and on ordinary requests; it falls back to lower versions
    /// (HTTP/2 over ALPN, else HTTP/1.1). Default <see cref="HttpVersion.Version20"/>.
    /// </summary>
    public Version HttpVersion { get; init; } = System.Net.HttpVersion.Version20;

    /// <summary>
    /// The agent's connections start after a random delay of up to this much (uniform), so a fleet that starts together (after a
    /// power cut, a patch night) reaches its servers spread out instead of in one second. Registration is not delayed. Zero
    /// connects at once (tests and the simulator, whose timings must not move). Default <see cref="DefaultStartJitter"/>, 10 seconds.
    /// </summary>
    public TimeSpan StartJitter { get; init; } = DefaultStartJitter;

    /// <summary>The default of <see cref="StartJitter"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultStartJitter = TimeSpan.FromSeconds(10);

    /// <summary>Reconnect back-off of the channel and of retried registration. Default <c>new BackoffOptions()</c> (1 s doubling to 5 min, full jitter).</summary>
    public BackoffOptions Backoff { get; init; } = new();

    /// <summary>Overrides the policy's <see cref="AgentSettings.PolicyRefreshSeconds"/> (tests and the simulator shorten it). Default <see langword="null"/>: use the policy.</summary>
    public TimeSpan? PolicyRefreshOverride { get; init; }

    /// <summary>Overrides the policy's <see cref="AgentSettings.TaskPollSeconds"/> (tests and the simulator shorten it). Default <see langword="null"/>: use the policy.</summary>
    public TimeSpan? TaskPollOverride { get; init; }

    /// <summary>How long the agent waits for the server's welcome after sending hello. Default 10 seconds.</summary>
    public TimeSpan HelloTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the reachability probe (a TCP connect to the Notification Server, made only while the route is re-evaluated) may take.
    /// Default 3 seconds.
    /// </summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long one request may take, over HTTP or as an <c>http.request</c> over the channel. Default 30 seconds.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>Jittered exponential back-off ("full jitter"): attempt n waits a uniform random time in [0, min(<see cref="Max"/>, <see cref="Initial"/> * <see cref="Multiplier"/>^n)].</summary>
public sealed record BackoffOptions
{
    /// <summary>The ceiling of the first delay. Default 1 second.</summary>
    public TimeSpan Initial { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The cap of every delay. Default 5 minutes.</summary>
    public TimeSpan Max { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Growth of the ceiling per failed attempt. Default 2.</summary>
    public double Multiplier { get; init; } = 2;
}
