using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Tcm.LoadTests.Baseline.Client;
using Tcm.LoadTests.Baseline.Server;
using Tcm.LoadTests.Harness.Reports;

namespace Tcm.LoadTests.Baseline;

/// <summary>
/// The <c>baseline</c> variant: bare Kestrel and bare <see cref="System.Net.WebSockets.ClientWebSocket"/>, TLS on loopback.
/// In lab mode it makes a CA and server certificate and starts <see cref="BaselineServer"/> in its own process (default)
/// or in this one; given a URL it attaches to a server started by <c>serve-baseline</c> (how shards share one server).
/// On the gateway route (lab mode) the agents reach that server through <see cref="Relay.BareRelay"/> in its own process, as TCM's
/// reach their servers through the gateway's: the floor of carrying the same bytes through one more hop.
/// </summary>
internal sealed class BaselineTarget : ILoadTarget, IChannelMessages
{
    private readonly TargetSettings _settings;
    private BaselineCertificates? _certificates;
    private X509Certificate2? _trustedCa;
    private string? _tempFolder;
    private BaselineServer? _inProcess;
    private BaselineServerProcess? _process;
    private BaselineServerProcess? _relay;
    private HttpClient? _control;
    private RemoteCertificateValidationCallback _validator = BaselineCertificates.Validator(null);
    private Uri _server = new("https://127.0.0.1:0");
    private Uri? _agentsServer;
    private readonly MessageCount _channelMessages = new();

    public BaselineTarget(TargetSettings settings) => _settings = settings;

    public string Variant => "baseline";

    public string Description => (_settings.Target == "lab"
        ? $"bare Kestrel + ClientWebSocket, TLS on loopback, {ProtocolText}, server {(_settings.ServerInOwnProcess ? "in its own process" : "in the load-test process")}"
        : $"bare Kestrel at {_settings.Target}, {ProtocolText}")
        + (_relay is not null ? ", through a bare relay (Kestrel copying each WebSocket's bytes to the server over HTTP/2, own process)" : "");

    /// <summary>Data messages the agents received and sent over their channels so far (each crossed the bare relay, when there is one).</summary>
    public long ChannelMessages => _channelMessages.Value;

    /// <summary>As many as the TCM agent of the run holds: its NS channel, and its Task Server channel with <c>--task-server</c>.</summary>
    public int ChannelsPerAgent => _settings.TaskServer ? 2 : 1;

    /// <summary>The server's address once started.</summary>
    public Uri Server => _server;

    private string ProtocolText => (_settings.Protocol, ChannelsPerAgent) switch
    {
        (ChannelProtocol.Http2, 2) => "HTTP/2, two WebSockets per agent (NS and TS, as a TCM agent with a Task Server) on one connection, as a TCM agent's through the gateway",
        (ChannelProtocol.Http2, _) => "HTTP/2, one WebSocket per agent (NS)",
        (_, 2) => "HTTP/1.1, two WebSockets per agent (NS and TS, as a TCM agent with a Task Server), one connection each",
        _ => "HTTP/1.1, one WebSocket per agent (NS)",
    }
        + ", the agent's keep-alive (a ping every 60 s)";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_settings.Target != "lab")
        {
            _server = new Uri(_settings.Target);
            if (_settings.CaCertificatePath is { } caPath)
            {
                _trustedCa = X509CertificateLoader.LoadCertificate(System.Text.Encoding.ASCII.GetBytes(await File.ReadAllTextAsync(caPath, cancellationToken).ConfigureAwait(false)));
            }

            _validator = BaselineCertificates.Validator(_trustedCa);
            _control = CreateControlClient(_server, _validator);
            return;
        }

        _certificates = BaselineCertificates.Create();
        _validator = BaselineCertificates.Validator(_certificates.Ca);
        if (_settings.ServerInOwnProcess)
        {
            _tempFolder = Directory.CreateTempSubdirectory("tcm-baseline-").FullName;
            var pfx = Path.Combine(_tempFolder, "server.pfx");
            _certificates.WriteServerPfx(pfx);
            _process = new BaselineServerProcess(pfx, _settings.Log);
            await _process.StartAsync(0, cancellationToken).ConfigureAwait(false);
            _server = new Uri($"https://127.0.0.1:{_process.Port}");
            _control = CreateControlClient(_server, _validator);
        }
        else
        {
            _inProcess = new BaselineServer(_certificates.Server, 0);
            await _inProcess.StartAsync(cancellationToken).ConfigureAwait(false);
            _server = _inProcess.BaseAddress;
        }

        if (_settings.Route == AgentRoute.Gateway)
        {
            _tempFolder ??= Directory.CreateTempSubdirectory("tcm-baseline-").FullName;
            var pfx = Path.Combine(_tempFolder, "relay.pfx");
            var ca = Path.Combine(_tempFolder, "ca.pem");
            _certificates.WriteServerPfx(pfx);
            _certificates.WriteCaPem(ca);
            _relay = BaselineServerProcess.Relay(pfx, _server, ca, _settings.Log);
            await _relay.StartAsync(0, cancellationToken).ConfigureAwait(false);
            _agentsServer = new Uri($"https://127.0.0.1:{_relay.Port}");
        }
    }

    public async Task<IAgentChannel> ConnectAsync(int agentIndex, IPushObserver observer, CancellationToken cancellationToken) =>
        await BaselineAgentChannel.ConnectAsync(_agentsServer ?? _server, _settings.Protocol, ChannelsPerAgent, agentIndex, GroupOf(agentIndex), _validator, observer, _channelMessages, cancellationToken).ConfigureAwait(false);

    // why -1 in lab mode: the server holds this process's agents only (the warm-up agents are closed before the fan-outs that use it).
    public Task<FanoutResult> PushToAllAsync(int sizeBytes, TimeSpan timeout, CancellationToken cancellationToken) =>
        FanoutAsync(sizeBytes, timeout, _settings.Target == "lab" ? -1 : _settings.Shard, cancellationToken);

    public Task<FanoutResult> PushToWarmUpAgentsAsync(int sizeBytes, TimeSpan timeout, CancellationToken cancellationToken) =>
        FanoutAsync(sizeBytes, timeout, GroupOf(-1), cancellationToken);

    /// <summary>The server's group of agent <paramref name="agentIndex"/>: this shard's, or its warm-up agents' (negative numbers).</summary>
    private int GroupOf(int agentIndex) => agentIndex >= 0 ? _settings.Shard : BaselineServer.WarmUpGroup(_settings.Shard);

    private async Task<FanoutResult> FanoutAsync(int sizeBytes, TimeSpan timeout, int group, CancellationToken cancellationToken)
    {
        if (_inProcess is not null)
        {
            return await _inProcess.FanoutAsync(sizeBytes, timeout, group, cancellationToken).ConfigureAwait(false);
        }

        var url = string.Create(CultureInfo.InvariantCulture, $"/control/fanout?size={sizeBytes}&timeoutMs={(long)timeout.TotalMilliseconds}&group={group}");
        using var response = await Control.PostAsync(url, null, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<FanoutResult>(JsonReport.Options, cancellationToken).ConfigureAwait(false)
               ?? throw new InvalidOperationException("The server returned no fan-out result.");
    }

    public async Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken)
    {
        if (_inProcess is not null)
        {
            await _inProcess.RestartAsync(downtime, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (_process is not null)
        {
            var port = _process.Port;
            _process.Kill();
            await Task.Delay(downtime, cancellationToken).ConfigureAwait(false);
            await _process.StartAsync(port, cancellationToken).ConfigureAwait(false);
            return;
        }

        var url = string.Create(CultureInfo.InvariantCulture, $"/control/restart?downMs={(long)downtime.TotalMilliseconds}");
        using var response = await Control.PostAsync(url, null, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        await Task.Delay(downtime, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ServerSnapshot> MeasureAsync(bool fullCollect, CancellationToken cancellationToken)
    {
        var snapshot = _inProcess is not null
            ? _inProcess.Snapshot(fullCollect)
            : await Control.GetFromJsonAsync<ServerSnapshot>(fullCollect ? "/control/stats?collect=true" : "/control/stats", JsonReport.Options, cancellationToken).ConfigureAwait(false)
              ?? throw new InvalidOperationException("The server returned no figures.");
        return _relay is null ? snapshot : snapshot with { RelayProcessId = _relay.ProcessId };
    }

    public async ValueTask DisposeAsync()
    {
        _control?.Dispose();
        if (_relay is not null)
        {
            await _relay.DisposeAsync().ConfigureAwait(false);
        }

        if (_process is not null)
        {
            await _process.DisposeAsync().ConfigureAwait(false);
        }

        if (_inProcess is not null)
        {
            await _inProcess.DisposeAsync().ConfigureAwait(false);
        }

        _certificates?.Dispose();
        _trustedCa?.Dispose();
        TempFolder.TryDelete(_tempFolder);
    }

    private HttpClient Control => _control ?? throw new InvalidOperationException("The target is not started.");

    private static HttpClient CreateControlClient(Uri server, RemoteCertificateValidationCallback validator) =>
        new(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = validator } })
        {
            BaseAddress = server,
            Timeout = TimeSpan.FromMinutes(2),
        };
}

/// <summary>Creates baseline targets, and the shared baseline server of a sharded run.</summary>
internal sealed class BaselineTargetFactory : ILoadTargetFactory
{
    public string Variant => "baseline";

    public string? UnavailableReason => null;

    /// <summary>Direct only: the floor of the stack has no gateway; TCM's gateway runs are compared with it.</summary>
    public IReadOnlyList<AgentRoute> Routes { get; } = [AgentRoute.Direct];

    public ILoadTarget Create(TargetSettings settings) => new BaselineTarget(settings);

    public async Task<SharedServer> StartSharedAsync(TargetSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Target != "lab")
        {
            return SharedServer.Attach(settings);
        }

        var certificates = BaselineCertificates.Create();
        var folder = Directory.CreateTempSubdirectory("tcm-baseline-shared-").FullName;
        var pfx = Path.Combine(folder, "server.pfx");
        var ca = Path.Combine(folder, "ca.pem");
        certificates.WriteServerPfx(pfx);
        certificates.WriteCaPem(ca);
        var process = new BaselineServerProcess(pfx, settings.Log);
        await process.StartAsync(0, cancellationToken).ConfigureAwait(false);
        return new SharedServer(
            ["--target", $"https://127.0.0.1:{process.Port}", "--ca", ca],
            new SharedLifetime(process, certificates, folder));
    }

    private sealed class SharedLifetime(BaselineServerProcess process, BaselineCertificates certificates, string folder) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await process.DisposeAsync().ConfigureAwait(false);
            certificates.Dispose();
            TempFolder.TryDelete(folder);
        }
    }
}
