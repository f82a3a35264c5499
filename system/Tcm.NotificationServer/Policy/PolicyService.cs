using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Policy;

/// <summary>
/// The server settings, communication profiles and targeted agent settings (kept in memory, persisted in the store),
/// and the policy each agent gets from them. A change made here is told to the other nodes sharing the store
/// (<see cref="NodeChangeKind.Policy"/>), which read the configuration again (<see cref="ReloadAsync"/>).
/// </summary>
internal sealed class PolicyService
{
    /// <summary>Id of the built-in profile created on first run.</summary>
    public const string DefaultProfileId = "default";

    private const string ServerSettingsKey = "server";
    private readonly TcmStore _store;
    private readonly ServerAddresses _addresses;
    private readonly INodeSignal _nodes;
    private readonly SemaphoreSlim _changeGate = new(1, 1);
    private volatile PolicyConfiguration _configuration;

    public PolicyService(TcmStore store, ServerAddresses addresses, IOptions<NotificationServerOptions> options, INodeSignal nodes)
    {
        _store = store;
        _addresses = addresses;
        _nodes = nodes;
        var settingsJson = store.GetSetting(ServerSettingsKey);
        ServerSettings settings;
        if (settingsJson is null)
        {
            // why: first run. TCM is off unless the host asked otherwise, and the built-in Default profile targets everyone.
            settings = new ServerSettings { TcmEnabled = options.Value.TcmEnabledAtFirstRun ?? false };
            var profile = DefaultProfile;
            store.Writer.WriteAsync(ctx =>
            {
                ctx.Execute("INSERT INTO settings(key, value) VALUES(@p0,@p1) ON CONFLICT(key) DO UPDATE SET value=excluded.value", ServerSettingsKey, TcmStore.Serialize(settings, ProtocolJsonContext.Default.ServerSettings));
                ctx.Execute("INSERT INTO profiles(id, name, priority, body) VALUES(@p0,@p1,@p2,@p3) ON CONFLICT DO NOTHING", profile.Id, profile.Name, profile.Priority, TcmStore.Serialize(profile, ProtocolJsonContext.Default.CommunicationProfile));
            }).GetAwaiter().GetResult();
        }
        else
        {
            settings = TcmStore.Deserialize(settingsJson, ProtocolJsonContext.Default.ServerSettings);
        }

        _configuration = Read(1, settings);
    }

    /// <summary>The built-in profile: persistent connection on, every agent, priority 1000.</summary>
    public static CommunicationProfile DefaultProfile { get; } = new()
    {
        Id = DefaultProfileId,
        Name = "Default",
        Priority = 1000,
        PersistentConnection = true,
        Targets = Targets.Everyone,
    };

    /// <summary>
    /// The Task Servers offered to an agent (set by the Task Server registry); null leaves <see cref="PolicyDocument.TaskServers"/> out.
    /// Policies are recomputed on the next configuration change or <see cref="InvalidateAsync"/>.
    /// </summary>
    internal Func<AgentRecord, TaskServerPolicy?>? TaskServerSource { get; set; }

    /// <summary>Makes every policy be computed again (something outside the configuration it depends on changed, e.g. the Task Servers).</summary>
    public Task InvalidateAsync(CancellationToken ct = default) => ChangeAsync(static _ => { }, static c => c, announce: false, ct);

    /// <summary>Another node changed the configuration: reads it again from the store and moves every policy on.</summary>
    public async Task ReloadAsync(CancellationToken ct = default)
    {
        await _changeGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var settings = _store.GetSetting(ServerSettingsKey) is { } json ? TcmStore.Deserialize(json, ProtocolJsonContext.Default.ServerSettings) : _configuration.Settings;
            _configuration = Read(_configuration.Version + 1, settings);
        }
        finally
        {
            _changeGate.Release();
        }
    }

    /// <summary>The current configuration; replaced as a whole on every change.</summary>
    public PolicyConfiguration Configuration => _configuration;

    /// <summary>The agent's policy, cached on the agent until the configuration changes.</summary>
    public PolicyDocument GetPolicy(AgentRecord agent)
    {
        var configuration = _configuration;
        if (agent.CachedPolicy is { } cached && cached.Version == configuration.Version)
        {
            return cached.Policy;
        }

        var policy = Compute(configuration, agent, _addresses.PublicHostPort);
        if (TaskServerSource?.Invoke(agent) is { } taskServers)
        {
            policy = policy with { TaskServers = taskServers };
            policy = policy with { Etag = ComputeEtag(policy) };
        }

        agent.CachedPolicy = new CachedPolicy(configuration.Version, policy);
        return policy;
    }

    /// <summary>Computes an agent's policy from a configuration.</summary>
    public static PolicyDocument Compute(PolicyConfiguration configuration, AgentRecord agent, string publicHostPort)
    {
        var profile = configuration.Profiles.FirstOrDefault(p => TargetMatcher.Matches(p.Targets, agent));
        var communication = profile is null
            ? new CommunicationSettings { ServerHosts = [publicHostPort], PersistentConnection = false }
            : new CommunicationSettings
            {
                ProfileId = profile.Id,
                ProfileName = profile.Name,
                ServerHosts = profile.ServerHosts is { Count: > 0 } hosts ? hosts : [publicHostPort],
                UseHttps = profile.UseHttps,
                PersistentConnection = profile.PersistentConnection,
                Cem = profile.Cem,
                Proxy = profile.Proxy is { Mode: not ProxyMode.None } proxy ? proxy : null,
            };
        var settings = configuration.TargetedSettings.FirstOrDefault(s => TargetMatcher.Matches(s.Targets, agent))?.Settings ?? new AgentSettings();
        var policy = new PolicyDocument
        {
            Etag = "",
            AgentId = agent.Id,
            TcmEnabled = configuration.Settings.TcmEnabled,
            Communication = communication,
            Settings = settings,
        };
        return policy with { Etag = ComputeEtag(policy) };
    }

    /// <summary>First 16 hex digits of SHA-256 over the policy's JSON without the ETag.</summary>
    public static string ComputeEtag(PolicyDocument policy)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(policy with { Etag = "" }, ProtocolJsonContext.Default.PolicyDocument);
        return Convert.ToHexStringLower(SHA256.HashData(json))[..16];
    }

    /// <summary>Whether a policy lets the agent hold a persistent connection, and if not, the refusal code.</summary>
    public static string? ChannelRefusal(PolicyDocument policy) =>
        !policy.TcmEnabled ? CloseReasons.TcmDisabled
        : !policy.Communication.PersistentConnection ? CloseReasons.NotTargeted
        : null;

    public Task UpdateSettingsAsync(ServerSettings settings, CancellationToken ct = default) => ChangeAsync(
        ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES(@p0,@p1) ON CONFLICT(key) DO UPDATE SET value=excluded.value", ServerSettingsKey, TcmStore.Serialize(settings, ProtocolJsonContext.Default.ServerSettings)),
        c => c with { Settings = settings },
        announce: true,
        ct);

    /// <summary>Adds or replaces a policy of <paramref name="list"/> (by id) and moves every agent's policy on.</summary>
    public Task UpsertAsync<T>(PolicyList<T> list, T policy, CancellationToken ct = default)
    {
        var key = list.Key(policy);
        return ChangeAsync(
            ctx => ctx.Execute($"INSERT INTO {list.Table}(id, name, priority, body) VALUES(@p0,@p1,@p2,@p3) ON CONFLICT(id) DO UPDATE SET name=excluded.name, priority=excluded.priority, body=excluded.body", key.Id, key.Name, key.Priority, TcmStore.Serialize(policy, list.Json)),
            c => list.Set(c, list.Sort(list.Get(c).Where(p => list.Key(p).Id != key.Id).Append(policy))),
            announce: true,
            ct);
    }

    /// <summary>Removes the policy <paramref name="id"/> of <paramref name="list"/> and moves every agent's policy on.</summary>
    public Task DeleteAsync<T>(PolicyList<T> list, string id, CancellationToken ct = default) => ChangeAsync(
        ctx => ctx.Execute($"DELETE FROM {list.Table} WHERE id=@p0", id),
        c => list.Set(c, list.Sort(list.Get(c).Where(p => list.Key(p).Id != id))),
        announce: true,
        ct);

    private PolicyConfiguration Read(int version, ServerSettings settings) =>
        new(version, settings, PolicyLists.Profiles.Sort(_store.LoadProfiles()), PolicyLists.TargetedSettings.Sort(_store.LoadTargetedSettings()));

    /// <summary>
    /// Writes a change and applies it to the configuration; <paramref name="announce"/>: the store's configuration changed, so the other
    /// nodes are told (not for a recomputation, which each node makes of its own accord).
    /// </summary>
    private async Task ChangeAsync(Action<WriteContext> persist, Func<PolicyConfiguration, PolicyConfiguration> apply, bool announce, CancellationToken ct)
    {
        await _changeGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _store.Writer.WriteAsync(persist, ct).ConfigureAwait(false);
            var current = _configuration;
            _configuration = apply(current) with { Version = current.Version + 1 };
        }
        finally
        {
            _changeGate.Release();
        }

        if (announce)
        {
            _nodes.Changed(new NodeChange(NodeChangeKind.Policy));
        }
    }
}

/// <summary>An immutable snapshot of everything policies are computed from.</summary>
internal sealed record PolicyConfiguration(
    int Version,
    ServerSettings Settings,
    IReadOnlyList<CommunicationProfile> Profiles,
    IReadOnlyList<TargetedAgentSettings> TargetedSettings);
