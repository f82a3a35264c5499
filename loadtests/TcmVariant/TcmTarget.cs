using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tcm.Agent;
using Tcm.LoadTests.Harness.Statistics;
using Tcm.LoadTests.TcmVariant.Client;
using Tcm.LoadTests.TcmVariant.Server;
using Tcm.LoadTests.Variants;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using Tcm.Lab.Admin;

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
/// <c>CompletedAt - CreatedAt</c> per target from <c>GET /tcm/admin/actions/{id}</c>, read once every agent had its result
/// acknowledged.</item>
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
internal sealed class TcmTarget : ILoadTarget, IAgentFleetTarget
{
    /// <summary>The environment variable carrying the admin key of a <c>--target URL</c> server (the simulator's convention).</summary>
    public const string AdminKeyVariable = "TCM_ADMIN_KEY";

    /// <summary>The environment variable carrying the admin key of the shared CEM gateway of a sharded gateway run.</summary>
    public const string GatewayAdminKeyVariable = "TCM_GATEWAY_ADMIN_KEY";

    /// <summary>The environment variable carrying the process id of the shared Task Server of a sharded run (its figures are read from the process).</summary>
    public const string TaskServerProcessVariable = "TCM_TASK_SERVER_PID";

    /// <summary>The name of the targeted agent settings that make agents prefer CEM in a gateway run.</summary>
    internal const string PreferCemSettingsName = "load test: prefer CEM";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(60);

    private readonly TargetSettings _settings;
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly ConcurrentDictionary<int, AgentSlot> _slots = new();
    private readonly ConcurrentDictionary<TcmAgentChannel, byte> _running = new();
    private TcmHostProcess? _process;
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
        ? $"TCM: Notification Server (tcm ns, own process, workstation GC, SQLite) + real TcmAgent per agent, TLS on loopback, {ProtocolText}"
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
            return new AgentTraffic
            {
                Agents = agents.Count,
                HttpRequests = agents.Sum(c => c.HttpRequests),
                ChannelRequests = agents.Sum(c => c.ChannelRequests),
                ChannelConnects = agents.Sum(c => c.ChannelConnects),
                BytesSent = agents.Sum(c => c.BytesSent),
                BytesReceived = agents.Sum(c => c.BytesReceived),
            };
        }
    }

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
            _adminKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
            _process = TcmHostProcess.NotificationServer(_dataFolder, _adminKey, _settings.Log);
            await _process.StartAsync(0, cancellationToken).ConfigureAwait(false);
            _server = new Uri($"https://127.0.0.1:{_process.Port}");
            _ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(_dataFolder, "ca.pem"), cancellationToken).ConfigureAwait(false));
            _package = JsonSerializer.Deserialize(
                await File.ReadAllTextAsync(Path.Combine(_dataFolder, "agent-package.json"), cancellationToken).ConfigureAwait(false),
                ProtocolJsonContext.Default.InstallPackage) ?? throw new InvalidOperationException("The Notification Server wrote no install package.");
            CreateClients();
            var gatewayKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
            var started = await StartSiteServersAsync(Admin, _package, _server, _dataFolder, _settings, gatewayKey, cancellationToken).ConfigureAwait(false);
            (_taskServerProcess, _gatewayProcess, _package) = (started.TaskServer, started.Gateway, started.Package);
            _taskServerPid = _taskServerProcess?.ProcessId ?? 0;
            if (_gatewayProcess is not null)
            {
                _gatewayAddress = $"localhost:{_gatewayProcess.Port}";
                _gatewayStatus = CreateStatusClient(_gatewayAddress, gatewayKey);
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
                _gatewayStatus = CreateStatusClient(_gatewayAddress, gatewayKey);
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

    /// <summary>The Task Server and gateway processes a run started (either may be null), and the install package agents use.</summary>
    internal sealed record SiteServers(TcmHostProcess? TaskServer, TcmHostProcess? Gateway, InstallPackage Package) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (Gateway is not null)
            {
                await Gateway.DisposeAsync().ConfigureAwait(false);
            }

            if (TaskServer is not null)
            {
                await TaskServer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Starts what <paramref name="settings"/> asks beside the Notification Server at <paramref name="server"/> (data under
    /// <paramref name="dataFolder"/>): a Task Server (<c>tcm ts</c>, registered as a site server, accepting every agent of the
    /// run) and, for <see cref="AgentRoute.Gateway"/>, a CEM gateway in front of both with every agent preferring CEM.
    /// </summary>
    internal static async Task<SiteServers> StartSiteServersAsync(
        AdminClient admin, InstallPackage package, Uri server, string dataFolder, TargetSettings settings, string gatewayAdminKey, CancellationToken cancellationToken)
    {
        TcmHostProcess? taskServer = null;
        try
        {
            if (settings.TaskServer)
            {
                var created = await admin.CreateSiteServerAsync(new CreateSiteServerRequest { Name = "ts1", Kind = SiteServerKind.TaskServer }, cancellationToken).ConfigureAwait(false);
                taskServer = TcmHostProcess.TaskServer(
                    Path.Combine(dataFolder, "ts1"), server.ToString().TrimEnd('/'), Path.Combine(dataFolder, "ca.pem"), created.RegistrationToken, maxAgents: 1_000_000, settings.Log);
                await taskServer.StartAsync(0, cancellationToken).ConfigureAwait(false);
                await WaitForTaskServerAsync(admin, cancellationToken).ConfigureAwait(false);
            }

            if (settings.Route != AgentRoute.Gateway)
            {
                return new SiteServers(taskServer, null, package);
            }

            var (gateway, withCem) = await StartGatewayAsync(admin, package, dataFolder, gatewayAdminKey, taskServer is null ? null : $"localhost:{taskServer.Port}", settings.Log, cancellationToken).ConfigureAwait(false);
            return new SiteServers(taskServer, gateway, withCem);
        }
        catch
        {
            if (taskServer is not null)
            {
                await taskServer.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>Waits until the Notification Server lists the Task Server as registered with an address (it is then in every agent's policy).</summary>
    private static async Task WaitForTaskServerAsync(AdminClient admin, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
        while (true)
        {
            var servers = await admin.GetSiteServersAsync(cancellationToken).ConfigureAwait(false);
            if (servers.Any(s => s.Kind == SiteServerKind.TaskServer && s.Registered && s.Address is not null))
            {
                return;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new InvalidOperationException("The Task Server did not report its address to the Notification Server within 30 s.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Registers a CEM gateway with the server behind <paramref name="admin"/>, starts it in its own process (data under
    /// <paramref name="dataFolder"/>), puts its address into the Default profile and makes every agent prefer CEM; returns
    /// the process and the install package that now carries the CEM settings.
    /// </summary>
    private static async Task<(TcmHostProcess Process, InstallPackage Package)> StartGatewayAsync(
        AdminClient admin, InstallPackage package, string dataFolder, string gatewayAdminKey, string? taskServer, TextWriter log, CancellationToken cancellationToken)
    {
        var created = await admin.CreateSiteServerAsync(new CreateSiteServerRequest { Name = "gw-load", Kind = SiteServerKind.Gateway }, cancellationToken).ConfigureAwait(false);
        var notificationServer = new Uri(package.ServerUrl).Authority;
        var process = TcmHostProcess.Gateway(Path.Combine(dataFolder, "gateway"), gatewayAdminKey, notificationServer, created.RegistrationToken, taskServer, log);
        try
        {
            await process.StartAsync(0, cancellationToken).ConfigureAwait(false);
            var profiles = await admin.GetProfilesAsync(cancellationToken).ConfigureAwait(false);
            var profile = profiles.First(p => p.Name == "Default");
            await admin.SaveProfileAsync(profile with { Cem = new CemSettings { GatewayAddress = $"localhost:{process.Port}" } }, cancellationToken).ConfigureAwait(false);
            await admin.SaveAgentSettingsAsync(
                new TargetedAgentSettings { Name = PreferCemSettingsName, Priority = 1, Settings = new AgentSettings { PreferCem = true } },
                cancellationToken).ConfigureAwait(false);
            return (process, await admin.CreatePackageAsync(profile.Id, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
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

    public async Task SetTcmCommunicationAsync(bool enabled, CancellationToken cancellationToken)
    {
        await Admin.SetTcmAsync(enabled, cancellationToken).ConfigureAwait(false);
        _tcmOn = enabled;
    }

    public async Task<FanoutResult> PushToAllAsync(int sizeBytes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var fleet = _running.Keys.Where(c => c.AgentIndex >= 0).ToList();
        var acknowledgedBefore = fleet.ToDictionary(c => c, c => c.Agent.Counters.ResultsAcknowledged);
        List<TargetRule> rules = [new("loadtest", "fleet")];
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

        // Every agent's result acknowledged (seen in-process, no polling of the server), or the timeout.
        var deadline = started + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline && fleet.Any(c => c.Agent.Counters.ResultsAcknowledged <= acknowledgedBefore[c]))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
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
        var cutoff = status.CreatedAt + timeout;
        var echoed = 0;
        DateTimeOffset? last = null;
        foreach (var target in status.Targets)
        {
            if (target.CompletedAt is { } completed && completed <= cutoff)
            {
                echoed++;
                roundTrip.Record(completed - status.CreatedAt < TimeSpan.Zero ? TimeSpan.Zero : completed - status.CreatedAt);
                last = last is null || completed > last ? completed : last;
            }
        }

        // With the channel on, a push the server could not write to a channel (queued for the next HTTP poll) is a failed send.
        var viaChannel = _tcmOn ? created.SentOverChannel : created.TargetCount;
        return new FanoutResult
        {
            Sent = viaChannel,
            Echoed = Math.Min(echoed, viaChannel),
            SendFailures = created.TargetCount - viaChannel,
            TimeToAllEchoedMs = last is { } l ? (l - status.CreatedAt).TotalMilliseconds : timeout.TotalMilliseconds,
            RoundTrip = roundTrip.ToData(),
        };
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
        var gateway = _gatewayStatus is { } status ? MeasureGatewayAsync(status, fullCollect, cancellationToken) : null;
        var client = _diagnostics ?? throw new InvalidOperationException("The target is not started.");
        var figures = await client.GetFromJsonAsync(
            fullCollect ? "/tcm/admin/diagnostics/process?collect=true" : "/tcm/admin/diagnostics/process",
            ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64,
            cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("The Notification Server returned no figures.");
        long Get(string key) => figures.TryGetValue(key, out var value)
            ? value
            : throw new InvalidOperationException($"The Notification Server's diagnostics lack '{key}': is it older than this load test?");
        return new ServerSnapshot
        {
            ProcessId = (int)Get("process.id"),
            WebSockets = Get("channels.live"),
            Connections = Get("connections.tcp"),
            Accepted = Get("channels.accepted"),
            PeakAcceptsPerSecond = Get("connections.tcp_peak_accepts_per_second"),
            ManagedBytes = Get("gc.managed_bytes"),
            WorkingSetBytes = Get("process.working_set_bytes"),
            CpuMsBeforeCollect = Get("process.cpu_us_before_collect") / 1000.0,
            CpuMsAfterCollect = Get("process.cpu_us_after_collect") / 1000.0,
            Timestamp = Get("process.stopwatch_timestamp"),
            Gateway = gateway is null ? null : await gateway.ConfigureAwait(false),
            TaskServer = _taskServerPid != 0 ? MeasureProcess(_taskServerPid) : null,
        };
    }

    /// <summary>A process's working set and CPU time, read from outside (the Task Server has no diagnostics endpoint).</summary>
    private static ServerSnapshot? MeasureProcess(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return new ServerSnapshot
            {
                ProcessId = pid,
                WorkingSetBytes = process.WorkingSet64,
                CpuMsBeforeCollect = process.TotalProcessorTime.TotalMilliseconds,
                CpuMsAfterCollect = process.TotalProcessorTime.TotalMilliseconds,
                Timestamp = Stopwatch.GetTimestamp(),
            };
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private async Task<ServerSnapshot> MeasureGatewayAsync(HttpClient client, bool fullCollect, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(fullCollect ? "/gateway/status?collect=true" : "/gateway/status", cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        var root = json.RootElement;
        long Get(string name) => root.TryGetProperty(name, out var value) && value.TryGetInt64(out var n)
            ? n
            : throw new InvalidOperationException($"The gateway's status lacks '{name}': is it older than this load test?");
        var cpu = root.TryGetProperty("cpuTimeMs", out var cpuValue) ? cpuValue.GetDouble() : 0;
        return new ServerSnapshot
        {
            ProcessId = (int)Get("processId"),
            WebSockets = Get("tunnelsOpen"),
            Connections = Get("agentsConnected"),
            Accepted = Get("connectsTotal"),
            ManagedBytes = Get("managedBytes"),
            WorkingSetBytes = Get("workingSetBytes"),
            CpuMsBeforeCollect = cpu,
            CpuMsAfterCollect = cpu,
            Timestamp = Stopwatch.GetTimestamp(),
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

        _ca?.Dispose();
        if (_dataFolder is not null)
        {
            try
            {
                Directory.Delete(_dataFolder, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
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
        Attributes = new Dictionary<string, string>
        {
            ["loadtest"] = slot.Index >= 0 ? "fleet" : "warmup",
            ["loadtest-shard"] = _settings.Shard.ToString(CultureInfo.InvariantCulture),
        },
        HttpVersion = _settings.Protocol == ChannelProtocol.Http2 ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11,
        TaskPollOverride = TaskPollInterval,
    };

    private void OnStarted(TcmAgentChannel channel) => _running[channel] = 0;

    private void OnDisposed(TcmAgentChannel channel) => _running.TryRemove(channel, out _);

    private void CreateClients()
    {
        _admin?.Dispose();
        _diagnostics?.Dispose();
        _admin = new AdminClient(_server, _adminKey!, _ca);
        var ca = _ca;
        var handler = new SocketsHttpHandler();
        if (ca is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = AdminClient.TrustedBy(ca);
        }

        _diagnostics = new HttpClient(handler) { BaseAddress = _server, Timeout = TimeSpan.FromMinutes(2) };
        _diagnostics.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, _adminKey);
    }

    /// <summary>A client of the gateway's status endpoint (<paramref name="address"/> is <c>host:port</c>, dialled on 127.0.0.1).</summary>
    private HttpClient CreateStatusClient(string address, string adminKey)
    {
        var ca = _ca;
        var port = new Uri("https://" + address).Port;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), ct).ConfigureAwait(false);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        if (ca is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = AdminClient.TrustedBy(ca);
        }

        var client = new HttpClient(handler) { BaseAddress = new Uri("https://" + address), Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, adminKey);
        return client;
    }
}

/// <summary>Creates TCM targets, and the shared Notification Server of a sharded run.</summary>
internal sealed class TcmTargetFactory : ILoadTargetFactory
{
    public string Variant => "tcm";

    public string? UnavailableReason => TcmHostProcess.UnavailableReason();

    public IReadOnlyList<AgentRoute> Routes { get; } = [AgentRoute.Direct, AgentRoute.Gateway];

    public ILoadTarget Create(TargetSettings settings) => new TcmTarget(settings);

    public async Task<SharedServer> StartSharedAsync(TargetSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Target != "lab")
        {
            var args = new List<string> { "--target", settings.Target };
            if (settings.CaCertificatePath is not null)
            {
                args.AddRange(["--ca", settings.CaCertificatePath]);
            }

            return new SharedServer(args, new TcmHostProcess.Nothing());
        }

        var folder = Directory.CreateTempSubdirectory("tcm-load-ns-shared-").FullName;
        var adminKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        var process = TcmHostProcess.NotificationServer(folder, adminKey, settings.Log);
        TcmTarget.SiteServers? siteServers = null;
        try
        {
            await process.StartAsync(0, cancellationToken).ConfigureAwait(false);
            var server = new Uri($"https://127.0.0.1:{process.Port}");
            var caPem = await File.ReadAllTextAsync(Path.Combine(folder, "ca.pem"), cancellationToken).ConfigureAwait(false);
            using var ca = X509Certificate2.CreateFromPem(caPem);
            using var admin = new AdminClient(server, adminKey, ca);
            var package = JsonSerializer.Deserialize(
                await File.ReadAllTextAsync(Path.Combine(folder, "agent-package.json"), cancellationToken).ConfigureAwait(false),
                ProtocolJsonContext.Default.InstallPackage) ?? throw new InvalidOperationException("The Notification Server wrote no install package.");
            var gatewayKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
            siteServers = await TcmTarget.StartSiteServersAsync(admin, package, server, folder, settings, gatewayKey, cancellationToken).ConfigureAwait(false);
            Environment.SetEnvironmentVariable(TcmTarget.GatewayAdminKeyVariable, siteServers.Gateway is null ? null : gatewayKey);
            Environment.SetEnvironmentVariable(TcmTarget.TaskServerProcessVariable, siteServers.TaskServer?.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        catch
        {
            if (siteServers is not null)
            {
                await siteServers.DisposeAsync().ConfigureAwait(false);
            }

            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        // The shard processes inherit this process's environment: that is how they get the admin keys.
        Environment.SetEnvironmentVariable(TcmTarget.AdminKeyVariable, adminKey);
        return new SharedServer(
            ["--target", $"https://127.0.0.1:{process.Port}", "--ca", Path.Combine(folder, "ca.pem")],
            new SharedLifetime(process, siteServers, folder));
    }

    private sealed class SharedLifetime(TcmHostProcess process, TcmTarget.SiteServers siteServers, string folder) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await siteServers.DisposeAsync().ConfigureAwait(false);

            await process.DisposeAsync().ConfigureAwait(false);
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Harmless.
            }
        }
    }
}
