using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Agents;

/// <summary>
/// Every registered agent, cached in memory (loaded at start, added at registration), and the registration tokens of
/// the install packages (kept as SHA-256 hashes, in the store and here). An agent or package another node sharing the store
/// created is read from the store when this node hears of it (<see cref="Load"/>, <see cref="ReloadPackages"/>), and so is what an agent
/// reported to another node after its registration (<see cref="ReloadStates"/>).
/// </summary>
internal sealed class AgentDirectory
{
    private readonly TcmStore _store;
    /// <summary>The most agents one read of reported states asks for (a query's parameters are bounded).</summary>
    private const int ReloadChunk = 500;

    private readonly AgentStateWriter _states;
    private readonly ConcurrentDictionary<string, AgentRecord> _agents;
    private readonly ConcurrentDictionary<string, PackageGrant> _packagesByTokenHash;

    public AgentDirectory(TcmStore store)
    {
        _store = store;
        _states = new AgentStateWriter(store);
        _agents = new ConcurrentDictionary<string, AgentRecord>(store.LoadAgents().Select(row => KeyValuePair.Create(row.Id, AgentRecord.FromStored(row))), StringComparer.Ordinal);
        _packagesByTokenHash = new ConcurrentDictionary<string, PackageGrant>(StringComparer.Ordinal);
        ReloadPackages();
    }

    public int Count => _agents.Count;

    /// <summary>A snapshot-free view of every agent; enumerating it is safe while agents register.</summary>
    public IEnumerable<AgentRecord> All => _agents.Values;

    public bool TryGet(string agentId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out AgentRecord? agent) =>
        _agents.TryGetValue(agentId, out agent);

    /// <summary>
    /// The agent <paramref name="agentId"/> as this node knows it, else as the store holds it (another node registered it): read once and
    /// kept from then on. False when the store does not hold it either. Every agent when <paramref name="agentId"/> is null (returns false).
    /// </summary>
    public bool Load(string? agentId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out AgentRecord? agent)
    {
        agent = null;
        if (agentId is not null && _agents.TryGetValue(agentId, out agent))
        {
            return true;
        }

        foreach (var row in _store.LoadAgents(agentId))
        {
            // why: a record this node made meanwhile (the agent's own registration here, a read beside this one) stays the one in use.
            var loaded = _agents.GetOrAdd(row.Id, static (_, stored) => AgentRecord.FromStored(stored), row);
            if (agentId is not null)
            {
                agent = loaded;
            }
        }

        return agent is not null;
    }

    /// <summary>The agent as this node knows it, or, when <paramref name="orFromStore"/> (nodes share the store), as the store holds it.</summary>
    public bool TryGet(string agentId, bool orFromStore, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out AgentRecord? agent) =>
        orFromStore ? Load(agentId, out agent) : _agents.TryGetValue(agentId, out agent);

    /// <summary>Reads the install packages' registration tokens from the store again (another node created one).</summary>
    public void ReloadPackages()
    {
        foreach (var (id, profileId, tokenHash) in _store.LoadInstallPackages())
        {
            _packagesByTokenHash.TryAdd(tokenHash, new PackageGrant(id, profileId));
        }
    }

    /// <summary>
    /// Told, once committed, of each agent registered here (its id) and each install package created here (null): the server hands them
    /// to the node signal.
    /// </summary>
    public Action<string?>? Committed { get; set; }

    /// <summary>
    /// Told, once committed, of the agents whose reported state this node stored, a batch at a time: the server hands them to the node
    /// signal.
    /// </summary>
    public Action<IReadOnlyList<string>>? StatesCommitted
    {
        get => _states.Committed;
        set => _states.Committed = value;
    }

    /// <summary>The Network Status the agent reported (or answered when asked): kept, and written coalesced with other agents'.</summary>
    public void ReportNetworkStatus(AgentRecord agent, NetworkStatus status)
    {
        agent.NetworkStatus = status;
        _states.Changed(agent);
    }

    /// <summary>Reads what the agents <paramref name="agentIds"/> reported from the store again (another node stored it); agents this node does not know are skipped.</summary>
    public void ReloadStates(IReadOnlyList<string> agentIds)
    {
        foreach (var chunk in agentIds.Chunk(ReloadChunk))
        {
            foreach (var (id, status) in _store.LoadAgentStates(chunk))
            {
                if (_agents.TryGetValue(id, out var agent))
                {
                    agent.NetworkStatus = status;
                }
            }
        }
    }

    /// <summary>Stores a newly registered agent, then makes it visible.</summary>
    public async Task AddAsync(AgentRecord agent, string? previousAgentId, string packageId, CancellationToken ct = default)
    {
        var attributes = TcmStore.Serialize(agent.Attributes, ProtocolJsonContext.Default.IReadOnlyDictionaryStringString);
        await _store.Writer.WriteAsync(ctx => ctx.Execute(
            "INSERT INTO agents(id, name, domain, os, attributes, registered_at, last_contact, next_seq, acked_seq, previous_id, package_id) VALUES(@p0,@p1,@p2,@p3,@p4,@p5,@p6,1,0,@p7,@p8)",
            agent.Id, agent.ComputerName, agent.Domain, agent.OsName, attributes, agent.RegisteredAt.ToUnixTimeMilliseconds(),
            agent.LastContact?.ToUnixTimeMilliseconds(), previousAgentId, packageId), ct).ConfigureAwait(false);
        _agents[agent.Id] = agent;
        Committed?.Invoke(agent.Id);
    }

    /// <summary>The install package a registration token belongs to, or null.</summary>
    public PackageGrant? FindPackage(string? registrationToken) =>
        string.IsNullOrEmpty(registrationToken) ? null : _packagesByTokenHash.GetValueOrDefault(HashToken(registrationToken));

    /// <summary>Creates an install package grant; returns the registration token (only its hash is kept).</summary>
    public async Task<string> CreatePackageAsync(string? profileId, DateTimeOffset now, CancellationToken ct = default)
    {
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var hash = HashToken(token);
        await _store.Writer.WriteAsync(ctx => ctx.Execute(
            "INSERT INTO install_packages(id, profile_id, token_hash, created_at) VALUES(@p0,@p1,@p2,@p3)",
            id, profileId, hash, now.ToUnixTimeMilliseconds()), ct).ConfigureAwait(false);
        _packagesByTokenHash[hash] = new PackageGrant(id, profileId);
        Committed?.Invoke(null);
        return token;
    }

    private static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>An install package a registration token was issued for.</summary>
internal sealed record PackageGrant(string Id, string? ProfileId);
