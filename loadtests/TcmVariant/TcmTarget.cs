using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tcm.Agent;
using Tcm.LoadTests.TcmVariant.Client;
using Tcm.LoadTests.TcmVariant.Server;
using Tcm.LoadTests.Tests;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using Tcm.Lab.Admin;
using Tcm.Lab.Storage;

namespace Tcm.LoadTests.TcmVariant;

/// <summary>
/// The <c>tcm</c> variant: the real Notification Server (<c>tcm ns</c>) in its own process and the real <see cref="TcmAgent"/>
/// for every agent, registered from the server's install package, over loopback TLS.
/// <list type="bullet">
/// <item><see cref="ConnectAsync"/>: starts the agent from its saved state (registering first when it has none) and returns when
/// its Network Status says Persistent (TCP, TLS with the client certificate, upgrade or extended CONNECT, hello, welcome);
/// one attempt: a fallback to HTTP fails it. <c>Closed</c> completes when the agent falls back.</item>
/// <item><see cref="PushToAllAsync"/>: an <c>echo</c> task through the admin API (<c>POST /tcm/admin/actions/task</c>) to this
/// process's fleet; delivery is seen by the agents' executor (<c>now - TaskPushMessage.CreatedAt</c>), the round trip is
/// <c>CompletedAt - CreatedAt</c> per target from <c>GET /tcm/admin/actions/{id}</c>, read once every agent sent its result, or, for push-fanout on the direct route, once after the measured phase (<see cref="IRoundTripsAfterRun"/>).</item>
/// <item><see cref="RestartAsync"/>: kills the server process and starts it again on the same port and data folder.</item>
/// <item><see cref="MeasureAsync"/>: <c>GET /tcm/admin/diagnostics/process?collect=true</c>.</item>
/// </list>
/// Given a URL (shards), it attaches to a running server with <c>--ca</c> and the admin key in <c>TCM_ADMIN_KEY</c>.
/// <para>
/// <see cref="AgentRoute.Gateway"/>: a CEM gateway (<c>tcm gateway</c>) in its own process in front of the server, registered
/// with it as a site server; the Default profile carries the gateway's address (so the install package does too) and a
/// targeted agent settings policy turns "Prefer CEM gateway connection" on for every agent. An agent counts as connected
/// only once its Network Status says Persistent through CEM. Its figures come from <c>GET /gateway/status?collect=true</c>.
/// </para>
/// </summary>
internal sealed partial class TcmTarget : ILoadTarget, IAgentFleetTarget, IFanoutAudit, IChannelMessages
{
    /// <summary>The environment variable carrying the admin key of a <c>--target URL</c> server (the simulator's convention).</summary>
    public const string AdminKeyVariable = "TCM_ADMIN_KEY";

    /// <summary>The environment variable carrying the admin key of the shared CEM gateway of a sharded gateway run.</summary>
    public const string GatewayAdminKeyVariable = "TCM_GATEWAY_ADMIN_KEY";

    /// <summary>The environment variable carrying the process id of the shared Task Server of a sharded run (its figures are read from the process).</summary>
    public const string TaskServerProcessVariable = "TCM_TASK_SERVER_PID";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(60);

    private readonly TargetSettings _settings;
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly ConcurrentDictionary<int, AgentSlot> _slots = new();
    private readonly ConcurrentDictionary<TcmAgentChannel, byte> _running = new();
    private readonly ConcurrentQueue<(string ActionId, TimeSpan Timeout)> _fanOuts = new();
    private TcmHostProcess? _process;
    private NsCluster? _cluster;
    private TcmHostProcess? _gatewayProcess;
    private TcmHostProcess? _taskServerProcess;
    private int _taskServerPid;
    private string? _gatewayAddress;
    private HttpClient? _gatewayStatus;
    private string? _dataFolder;
    private string? _adminKey;
    private X509Certificate2? _ca;
    private InstallPackage? _package;
    private AdminClient? _admin;
    private HttpClient? _diagnostics;
    private Uri _server = new("https://127.0.0.1:0");
    private volatile bool _tcmOn = true;

    public TcmTarget(TargetSettings settings) => _settings = settings;

    public string Variant => "tcm";

    public string Description => (_settings.Target == "lab"
        ? $"TCM: Notification Server (tcm ns, own process, workstation GC, {_settings.Deployment.Description}) + real TcmAgent per agent, TLS on loopback, {ProtocolText}"
        : $"TCM: Notification Server at {_settings.Target} + real TcmAgent per agent, {ProtocolText}")
        + (_settings.Route == AgentRoute.Gateway ? $", through the CEM gateway ({(_gatewayProcess is not null ? "tcm gateway, own process" : _gatewayAddress)}; agents prefer CEM)" : ", direct");

    public int ChannelsPerAgent => _settings.TaskServer ? 2 : 1;

    public TimeSpan? TaskPollInterval { get; set; }

    public int PersistentAgents => _running.Keys.Count(c => c.AgentIndex >= 0 && c.IsPersistent);

    public AgentTraffic Traffic
    {
        get
        {
            var agents = _running.Keys.Where(c => c.AgentIndex >= 0).Select(c => c.Agent.Counters).ToList();
            return new AgentTraffic(
                agents.Count,
                agents.Sum(c => c.HttpRequests),
                agents.Sum(c => c.ChannelRequests + c.ChannelConnects),
                agents.Sum(c => c.BytesSent + c.BytesReceived));
        }
    }

    /// <summary>Messages the fleet's agents received and sent over their channels (both channels with a Task Server: through the gateway, every one was relayed).</summary>
    public long ChannelMessages => _running.Keys.Where(c => c.AgentIndex >= 0).Sum(c => Messages(c.Agent.Counters) + Messages(c.Agent.TaskServerCounters));

    private static long Messages(Tcm.Agent.Status.AgentCounters counters) => counters.ChannelMessagesReceived + counters.ChannelMessagesSent;

    private string ProtocolText => (_settings.Protocol, _settings.TaskServer) switch
    {
        (ChannelProtocol.Http2, false) => "HTTP/2 (the agent's NS channel as extended CONNECT; no Task Server, so one WebSocket per connection)",
        (ChannelProtocol.Http2, true) => "HTTP/2 (NS and Task Server channels as extended CONNECT, on one connection through the gateway)",
        (_, false) => "HTTP/1.1 (one WebSocket per connection)",
        _ => "HTTP/1.1 (one WebSocket per connection, NS and Task Server channel each)",
    } + (_settings.TaskServer ? $", a Task Server ({(_taskServerProcess is not null ? "tcm ts, own process" : "the server's")}) holding each agent's second channel" : "");

    private AdminClient Admin => _admin ?? throw new InvalidOperationException("The target is not started.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_settings.Target == "lab")
        {
            _dataFolder = Directory.CreateTempSubdirectory("tcm-load-ns-").FullName;
            _adminKey = StartedNotificationServer.NewAdminKey();
            if (_settings.Deployment.Store == StoreKind.PostgreSql)
            {
                _cluster = await NsCluster.StartAsync(_settings.Deployment, _dataFolder, _adminKey, _settings.Log, cancellationToken).ConfigureAwait(false);
            }

            var ns = _cluster?.First ?? await StartedNotificationServer.StartAsync(_dataFolder, _adminKey, _settings.Log, cancellationToken).ConfigureAwait(false);
            (_process, _server, _package) = (ns.Process, ns.Address, ns.Package);
            _ca = X509Certificate2.CreateFromPem(ns.CaPem);
            CreateClients();
            if (_cluster is not null)
            {
                await _cluster.AddNodeProfilesAsync(Admin, cancellationToken).ConfigureAwait(false);
            }
            var gatewayKey = StartedNotificationServer.NewAdminKey();
            var started = await SiteServers.StartAsync(Admin, _package, _server, _dataFolder, _settings, gatewayKey, cancellationToken).ConfigureAwait(false);
            (_taskServerProcess, _gatewayProcess, _package) = (started.TaskServer, started.Gateway, started.Package);
            _taskServerPid = _taskServerProcess?.ProcessId ?? 0;
            if (_gatewayProcess is not null)
            {
                _gatewayAddress = $"localhost:{_gatewayProcess.Port}";
                _gatewayStatus = ServerFigures.AdminHttpClient(new Uri("https://" + _gatewayAddress), gatewayKey, _ca, dialLoopback: true);
            }

            return;
        }

        _server = new Uri(_settings.Target);
        _adminKey = Environment.GetEnvironmentVariable(AdminKeyVariable)
            ?? throw new InvalidOperationException($"the tcm variant needs the admin key of {_settings.Target} in the {AdminKeyVariable} environment variable");
        if (_settings.CaCertificatePath is { } caPath)
        {
            _ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(caPath, cancellationToken).ConfigureAwait(false));
        }

        CreateClients();
        var profiles = await Admin.GetProfilesAsync(cancellationToken).ConfigureAwait(false);
        var profile = profiles.OrderBy(p => p.Priority).FirstOrDefault(p => p.Name == "Default") ?? profiles.OrderBy(p => p.Priority).First();
        _package = await Admin.CreatePackageAsync(profile.Id, cancellationToken).ConfigureAwait(false);
        if (_settings.Route == AgentRoute.Gateway)
        {
            _gatewayAddress = profile.Cem?.GatewayAddress
                ?? throw new InvalidOperationException($"--route gateway: the '{profile.Name}' profile of {_settings.Target} has no CEM gateway address (a sharded gateway run sets one up; for your own system, configure the gateway in the profile and a targeted policy with Prefer CEM on)");
            if (Environment.GetEnvironmentVariable(GatewayAdminKeyVariable) is { Length: > 0 } gatewayKey)
            {
                _gatewayStatus = ServerFigures.AdminHttpClient(new Uri("https://" + _gatewayAddress), gatewayKey, _ca, dialLoopback: true);
            }
        }

        if (_settings.TaskServer)
        {
            var servers = await Admin.GetSiteServersAsync(cancellationToken).ConfigureAwait(false);
            if (!servers.Any(s => s.Kind == SiteServerKind.TaskServer && s.Registered && s.Address is not null))
            {
                throw new InvalidOperationException($"--task-server: {_settings.Target} has no registered Task Server with an address, so no agent could hold its Task Server channel");
            }

            if (int.TryParse(Environment.GetEnvironmentVariable(TaskServerProcessVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
            {
                _taskServerPid = pid;
            }
        }
    }

    public async Task<IAgentChannel> ConnectAsync(int agentIndex, IPushObserver observer, CancellationToken cancellationToken)
    {
        var slot = Slot(agentIndex);
        slot.Executor.Observer = observer;
        return await TcmAgentChannel.StartAsync(slot, Options(slot), _time, waitForPersistent: _tcmOn, ConnectTimeout, OnStarted, OnDisposed, cancellationToken, RequiredMode, _settings.TaskServer).ConfigureAwait(false);
    }

    public async Task RegisterAsync(int agentIndex, CancellationToken cancellationToken)
    {
        var slot = Slot(agentIndex);
        if (slot.IsRegistered)
        {
            return;
        }

        // StartAsync returns once registered; stopping at once leaves the identity in the slot's store.
        var channel = await TcmAgentChannel.StartAsync(slot, Options(slot), _time, waitForPersistent: false, ConnectTimeout, _ => { }, _ => { }, cancellationToken).ConfigureAwait(false);
        await channel.DisposeAsync().ConfigureAwait(false);
    }

    public async Task PrepareFleetAsync(int offset, int count, int concurrency, CancellationToken cancellationToken)
    {
        if (_cluster is not { Nodes: > 1, OthersStarted: false } cluster)
        {
            return;
        }

        // why: a node knows the agents registered when it started; registered through node 1 first, every node knows the whole fleet.
        await Parallel.ForEachAsync(
            Enumerable.Range(offset, count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency), CancellationToken = cancellationToken },
            async (index, ct) => await RegisterAsync(index, ct).ConfigureAwait(false)).ConfigureAwait(false);
        await cluster.StartOtherNodesAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<(AdmissionTotals Front, AdmissionTotals Server)> ReadAdmissionAsync(CancellationToken cancellationToken)
    {
        var server = AdmissionTotals.Parse(await (_diagnostics ?? throw new InvalidOperationException("The target is not started.")).GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken).ConfigureAwait(false));
        var front = _gatewayStatus is { } gateway && _settings.Route == AgentRoute.Gateway
            ? AdmissionTotals.Parse(await gateway.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken).ConfigureAwait(false))
            : server;
        return (front, server);
    }

    public async Task SetTcmCommunicationAsync(bool enabled, CancellationToken cancellationToken)
    {
        await Admin.SetTcmAsync(enabled, cancellationToken).ConfigureAwait(false);
        _tcmOn = enabled;
    }

    public Task<FanoutResult> PushToAllAsync(int sizeBytes, TimeSpan timeout, CancellationToken cancellationToken) =>
        PushAsync(warmUp: false, sizeBytes, timeout, cancellationToken);

    public Task<FanoutResult> PushToWarmUpAgentsAsync(int sizeBytes, TimeSpan timeout, CancellationToken cancellationToken) =>
        PushAsync(warmUp: true, sizeBytes, timeout, cancellationToken);

    /// <summary>
    /// One fan-out to the fleet, or to the warm-up agents (attribute <c>loadtest</c> = <c>warmup</c>): the same request, the same
    /// matching over every agent the server knows, the same wait. A warm-up agents' fan-out is left out of the audit.
    /// </summary>
    private async Task<FanoutResult> PushAsync(bool warmUp, int sizeBytes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var fleet = _running.Keys.Where(c => c.AgentIndex >= 0 != warmUp).ToList();
        var answered = AnsweredWhen(fleet, warmUp ? Interlocked.Increment(ref _warmUpRounds) : Interlocked.Increment(ref _rounds));
        List<TargetRule> rules = [new("loadtest", warmUp ? "warmup" : "fleet")];
        if (_settings.Shards > 1)
        {
            rules.Add(new TargetRule("loadtest-shard", _settings.Shard.ToString(CultureInfo.InvariantCulture)));
        }

        var started = Stopwatch.GetTimestamp();
        // With a Task Server, tasks take the product's task path: the NS hands them to the Task Server, which pushes them to
        // the agents' Client Task Agents.
        Func<PushTaskRequest, CancellationToken, Task<ActionCreated>> push = _settings.TaskServer ? Admin.PushTaskThroughTaskServersAsync : Admin.PushTaskAsync;
        var created = await push(
            new PushTaskRequest
            {
                Command = "echo",
                Name = "load-test echo",
                Parameters = new Dictionary<string, string> { ["text"] = new string('x', Math.Max(1, sizeBytes)) },
                TimeoutSeconds = 60,
                Targets = new Targets { Rules = rules },
            },
            cancellationToken).ConfigureAwait(false);
        if (!warmUp)
        {
            _fanOuts.Enqueue((created.ActionId, timeout));
        }

        // Every agent's result sent (seen in-process, no polling of the server; AnsweredWhen says why not acknowledged), or the
        // timeout. The counts only grow, so each look starts at the first agent still waiting.
        var deadline = started + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var waiting = 0;
        while (true)
        {
            while (waiting < fleet.Count && fleet[waiting].Agent.Counters.ResultsSent >= answered[waiting])
            {
                waiting++;
            }

            if (waiting == fleet.Count || Stopwatch.GetTimestamp() >= deadline)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }

        // With the channel on, a push the server could not write to a channel (queued for the next HTTP poll) is a failed send. Node 1
        // writes only to its own agents' channels, the other nodes' agents get theirs through the node signal: there, the echoes judge.
        var viaChannel = _tcmOn && _cluster is not { Nodes: > 1 } ? created.SentOverChannel : created.TargetCount;

        // Not with a Task Server: its results reach the NS after the agent saw them acknowledged, so only the server's word counts.
        if (_roundTripsLater is { } later && !_settings.TaskServer)
        {
            later.Enqueue((created.ActionId, timeout));
            return AsSeenByAgents(created, viaChannel, fleet.Where((c, i) => c.Agent.Counters.ResultsSent >= answered[i]).Count(), started);
        }

        // The server's word is final: overlapping rounds can make the acknowledgement count run ahead of this action.
        var status = await Admin.GetActionAsync(created.ActionId, cancellationToken).ConfigureAwait(false);
        var wait = TimeSpan.FromMilliseconds(100);
        while (status.Targets.Any(t => t.CompletedAt is null) && Stopwatch.GetTimestamp() < deadline)
        {
            // Each read is a query over every target: 100 ms, then doubling to once a second, not to load the server being
            // measured (results through a Task Server reach the NS a moment after the agent saw them acknowledged).
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            wait = TimeSpan.FromMilliseconds(Math.Min(1000, wait.TotalMilliseconds * 2));
            status = await Admin.GetActionAsync(created.ActionId, cancellationToken).ConfigureAwait(false);
        }

        var roundTrip = new LogHistogram();
        var (echoed, last) = RecordRoundTrips(status, timeout, roundTrip);

        return new FanoutResult
        {
            Sent = viaChannel,
            Echoed = Math.Min(echoed, viaChannel),
            SendFailures = created.TargetCount - viaChannel,
            TimeToAllEchoedMs = last is { } l ? (l - status.CreatedAt).TotalMilliseconds : timeout.TotalMilliseconds,
            RoundTrip = roundTrip.ToData(),
        };
    }

    public async Task<FanoutAudit> AuditAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(grace.TotalSeconds * Stopwatch.Frequency);
        int fanOuts = 0, complete = 0, late = 0, missing = 0, duplicated = 0;
        foreach (var (actionId, timeout) in _fanOuts)
        {
            var status = await Admin.GetActionAsync(actionId, cancellationToken).ConfigureAwait(false);
            while (status.Targets.Any(t => t.CompletedAt is null) && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), _time, cancellationToken).ConfigureAwait(false);
                status = await Admin.GetActionAsync(actionId, cancellationToken).ConfigureAwait(false);
            }

            var open = status.Targets.Count(t => t.CompletedAt is null);
            fanOuts++;
            complete += open == 0 ? 1 : 0;
            late += status.Targets.Any(t => t.CompletedAt > status.CreatedAt + timeout) ? 1 : 0;
            missing += open;
            duplicated += status.Targets.Sum(t => Math.Max(0, t.ResultCount - 1));
        }

        return new FanoutAudit(fanOuts, complete, late, missing, duplicated);
    }

    public async Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken)
    {
        if (_process is null)
        {
            throw new NotSupportedException($"the tcm variant restarts only a server it started (--target lab), not {_settings.Target}");
        }

        var port = _process.Port;
        _process.Kill();
        await Task.Delay(downtime, _time, cancellationToken).ConfigureAwait(false);
        await _process.StartAsync(port, cancellationToken).ConfigureAwait(false);
        CreateClients();
    }

    public async Task<ServerSnapshot> MeasureAsync(bool fullCollect, CancellationToken cancellationToken)
    {
        var gateway = _gatewayStatus is { } status ? ServerFigures.ReadGatewayAsync(status, fullCollect, cancellationToken) : null;
        var server = await ServerFigures.ReadNotificationServerAsync(
            _diagnostics ?? throw new InvalidOperationException("The target is not started."), fullCollect, cancellationToken).ConfigureAwait(false);
        return server with
        {
            Gateway = gateway is null ? null : await gateway.ConfigureAwait(false),
            TaskServer = _taskServerPid != 0 ? ServerFigures.ReadProcess(_taskServerPid) : null,
            OtherNodes = _cluster?.OtherNodeProcessIds ?? [],
            PostgresProcessId = _cluster?.PostgresProcessId ?? 0,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await Parallel.ForEachAsync(_running.Keys.ToList(), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.DisposeAsync().ConfigureAwait(false)).ConfigureAwait(false);
        _admin?.Dispose();
        _diagnostics?.Dispose();
        _gatewayStatus?.Dispose();
        await new SiteServers(_taskServerProcess, _gatewayProcess, _package!).DisposeAsync().ConfigureAwait(false);

        if (_process is not null)
        {
            await _process.DisposeAsync().ConfigureAwait(false);
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
        }

        _ca?.Dispose();
        TempFolder.TryDelete(_dataFolder);
    }

    private AgentSlot Slot(int agentIndex) => _slots.GetOrAdd(agentIndex, i => new AgentSlot(i, _time));

    /// <summary>The route an agent must be persistent on before it counts as connected.</summary>
    private ConnectionMode? RequiredMode => _settings.Route == AgentRoute.Gateway ? ConnectionMode.Cem : null;

    private AgentOptions Options(AgentSlot slot) => new()
    {
        Package = _package ?? throw new InvalidOperationException("The target is not started."),
        ComputerName = slot.ComputerName,
        Domain = "load.test",
        OsName = "load-test",
        Attributes = Attributes(slot),
        HttpVersion = _settings.Protocol == ChannelProtocol.Http2 ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11,
        TaskPollOverride = TaskPollInterval,
        // why: the tests say when agents connect. A storm is agents that were already running meeting a restarted server, all
        // at once as the baseline's agents arrive; the start jitter spreads a fleet's boot, which no test here measures.
        StartJitter = TimeSpan.Zero,
    };

    private Dictionary<string, string> Attributes(AgentSlot slot)
    {
        var attributes = new Dictionary<string, string>
        {
            ["loadtest"] = slot.Index >= 0 ? "fleet" : "warmup",
            ["loadtest-shard"] = _settings.Shard.ToString(CultureInfo.InvariantCulture),
        };
        if (_cluster is { Nodes: > 1 } cluster)
        {
            attributes[NsCluster.NodeAttribute] = cluster.NodeOf(slot.Index).ToString(CultureInfo.InvariantCulture);
        }

        return attributes;
    }

    private void OnStarted(TcmAgentChannel channel) => _running[channel] = 0;

    private void OnDisposed(TcmAgentChannel channel) => _running.TryRemove(channel, out _);

    private void CreateClients()
    {
        _admin?.Dispose();
        _diagnostics?.Dispose();
        _admin = new AdminClient(_server, _adminKey!, _ca);
        _diagnostics = ServerFigures.AdminHttpClient(_server, _adminKey!, _ca);
    }
}
