using Tcm.LoadTests.Tests;

namespace Tcm.LoadTests.Variants;

/// <summary>
/// What a target with real agents can do beyond <see cref="ILoadTarget"/> (the <c>tcm</c> variant; the bare baseline has no
/// registration, no policy and no polling): register agents ahead of a storm, switch the server's "TCM communication"
/// setting (persistent channel or legacy HTTP polling), and read the agents' own wire counters.
/// </summary>
internal interface IAgentFleetTarget
{
    /// <summary>The task poll interval of agents started from now on (legacy HTTP polling); null keeps the policy's.</summary>
    TimeSpan? TaskPollInterval { get; set; }

    /// <summary>Registers agent <paramref name="agentIndex"/> with the install package (ECDSA key, CSR, signed certificate) and leaves it stopped.</summary>
    Task RegisterAsync(int agentIndex, CancellationToken cancellationToken);

    /// <summary>
    /// Before agents <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> - 1 first connect: a Notification
    /// Server of several nodes registers them through node 1 (<paramref name="concurrency"/> at a time) and then starts its other nodes,
    /// which know only the agents registered before they started. Nothing for one node.
    /// </summary>
    Task PrepareFleetAsync(int offset, int count, int concurrency, CancellationToken cancellationToken);

    /// <summary>Turns the server's "TCM communication" setting on (agents keep a persistent channel) or off (HTTP polling).</summary>
    Task SetTcmCommunicationAsync(bool enabled, CancellationToken cancellationToken);

    /// <summary>The agents of this process that hold a persistent channel now.</summary>
    int PersistentAgents { get; }

    /// <summary>The sum of the wire counters of every agent this process runs now.</summary>
    AgentTraffic Traffic { get; }

    /// <summary>
    /// The admission totals (<c>/metrics</c>) of the server agents reach first (<c>Front</c>: the gateway through the gateway, else the
    /// Notification Server) and of the Notification Server (<c>Server</c>).
    /// </summary>
    Task<(AdmissionTotals Front, AdmissionTotals Server)> ReadAdmissionAsync(CancellationToken cancellationToken);
}

/// <summary>What agents did on the wire (application bytes above TLS), summed.</summary>
/// <param name="Agents">The agents summed.</param>
/// <param name="HttpRequests">Plain HTTP requests (registration, polls, posts).</param>
/// <param name="ChannelRequests">Requests carried over the persistent channel (<c>http.request</c>) and the channels' upgrades (or extended CONNECTs).</param>
/// <param name="Bytes">Bytes sent and received.</param>
internal sealed record AgentTraffic(int Agents, long HttpRequests, long ChannelRequests, long Bytes)
{
    /// <summary>Every request the server had to answer: HTTP requests, channel requests and channel upgrades.</summary>
    public long Requests => HttpRequests + ChannelRequests;

    /// <summary>The difference <c>this - earlier</c>.</summary>
    public AgentTraffic Since(AgentTraffic earlier) =>
        new(Agents, HttpRequests - earlier.HttpRequests, ChannelRequests - earlier.ChannelRequests, Bytes - earlier.Bytes);
}
