using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.Gateway;
using Tcm.Hosting;
using Tcm.Lab.Admin;
using Tcm.Lab.Network;
using Tcm.Lab.Packages;
using Tcm.Lab.Storage;
using Tcm.NotificationServer;
using Tcm.Protocol;
using Tcm.TaskServer;

namespace Tcm.Lab;

/// <summary>
/// An in-process lab: a real Notification Server and Task Servers on 127.0.0.1, each behind the simulated network's
/// corporate host name (<c>ns.tcm.lab</c>, <c>ts1.tcm.lab</c>, ...), each with its own data folder, restartable on its port.
/// </summary>
public sealed partial class InProcessLab : ISystemUnderTest
{
    /// <summary>The NS host name agents dial; the simulated network maps it to the loopback port.</summary>
    public const string NotificationServerHost = "ns.tcm.lab";

    private readonly string _dataDirectory;
    private readonly bool _keepData;
    private readonly ILoggerFactory _loggers;
    private readonly NetworkTopology _topology;
    private readonly List<HostedServer> _servers = [];
    private NotificationServerInfo _ns = null!;
    private LabPackageServer? _packages;
    private LabProxy? _proxy;
    private RegisteredEndpoint? _proxyEndpoint;
    private PostgresDatabase? _database;

    private InProcessLab(NetworkTopology topology, string dataDirectory, bool keepData, ILoggerFactory loggers)
    {
        _topology = topology;
        _dataDirectory = dataDirectory;
        _keepData = keepData;
        _loggers = loggers;
    }

    /// <inheritdoc />
    public AdminClient Admin { get; private set; } = null!;

    /// <inheritdoc />
    public InstallPackage Package { get; private set; } = null!;

    /// <inheritdoc />
    public bool HasTaskServers => _servers.Any(s => s.Name.StartsWith("ts", StringComparison.Ordinal));

    /// <inheritdoc />
    public CemSettings? Cem { get; private set; }

    /// <inheritdoc />
    public ProxySettings? Proxy { get; private set; }

    /// <summary>The lab's proxy, when it runs one (its counters for reports and tests).</summary>
    public LabProxy? LabProxy => _proxy;

    /// <inheritdoc />
    public string Description => "lab: " + string.Join(", ", _servers.Select(s => $"{s.Name} https://{s.HostName}:{s.Port}")) + $"; data in {_dataDirectory}"
        + (_database is null ? "" : $", the NS's store in PostgreSQL database {_database.Name}");

    /// <summary>The Notification Server's PostgreSQL database when the lab runs it on one; null on the SQLite file.</summary>
    public PostgresDatabase? Database => _database;

    /// <summary>
    /// Starts the servers <paramref name="options"/> asks for, each in <paramref name="dataDirectory"/>'s own subfolder, and registers
    /// them in <paramref name="topology"/>; deletes the folder on dispose unless <paramref name="keepData"/>. A lab that fails to
    /// start is disposed before the exception leaves.
    /// </summary>
    public static async Task<InProcessLab> StartAsync(LabOptions options, NetworkTopology topology, string dataDirectory, bool keepData, ILoggerFactory loggers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.TaskServers);
        var lab = new InProcessLab(topology, dataDirectory, keepData, loggers);
        try
        {
            await lab.StartAllAsync(options, ct);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public async Task ControlAsync(ServerOperation operation, string server, CancellationToken ct)
    {
        if (string.Equals(server, "proxy", StringComparison.OrdinalIgnoreCase) && _proxy is { } proxy)
        {
            ControlProxy(proxy, operation);
            return;
        }

        if (operation is ServerOperation.RefuseCredentials or ServerOperation.AcceptCredentials)
        {
            throw new NotSupportedException($"only the proxy asks for credentials, not '{server}'");
        }

        var hosted = _servers.FirstOrDefault(s => string.Equals(s.Name, server, StringComparison.OrdinalIgnoreCase))
            ?? throw new NotSupportedException($"the lab has no server '{server}'; it runs {string.Join(", ", _servers.Select(s => s.Name))}");
        switch (operation)
        {
            case ServerOperation.Start:
                await hosted.StartAsync(ct);
                break;
            case ServerOperation.Stop:
                await hosted.StopAsync(TimeSpan.FromSeconds(5));
                break;
            case ServerOperation.Kill:
                // A kill gives connections no goodbye: the shutdown window is zero, so Kestrel aborts them.
                await hosted.StopAsync(TimeSpan.Zero);
                break;
        }
    }

    /// <summary>The proxy goes down (its endpoint refuses connections, its tunnels are cut) or up, or changes its password.</summary>
    private void ControlProxy(LabProxy proxy, ServerOperation operation)
    {
        switch (operation)
        {
            case ServerOperation.Start:
                _proxyEndpoint!.IsUp = true;
                break;
            case ServerOperation.Stop or ServerOperation.Kill:
                _proxyEndpoint!.IsUp = false;
                proxy.AbortTunnels();
                break;
            case ServerOperation.RefuseCredentials:
                proxy.RefuseCredentials = true;
                break;
            case ServerOperation.AcceptCredentials:
                proxy.RefuseCredentials = false;
                break;
        }
    }

    /// <inheritdoc />
    public PackageReference PublishPackage(string id, long sizeBytes, IReadOnlyList<CodebaseSpec> codebases) =>
        (_packages ?? throw new NotSupportedException("the lab's package server is not running")).Publish(id, sizeBytes, codebases);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // Task Servers first: they hold long polls open on the NS.
        for (var i = _servers.Count - 1; i >= 0; i--)
        {
            await _servers[i].StopAsync(TimeSpan.FromSeconds(2));
        }

        if (_packages is not null)
        {
            await _packages.DisposeAsync();
        }

        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        Admin?.Dispose();
        if (!_keepData)
        {
            if (_database is not null)
            {
                await _database.DisposeAsync();
            }

            try
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task StartAllAsync(LabOptions spec, CancellationToken ct)
    {
        if ((spec.Store ?? StoreSelection.Selected) == StoreKind.PostgreSql)
        {
            // One database for the lab's life: a restarted NS finds its data again, as it finds its data folder.
            _database = await StoreSelection.CreateDatabaseAsync("tcm_lab", ct);
        }

        await StartNodesAsync(spec, ct);

        for (var i = 1; i <= spec.TaskServers; i++)
        {
            var name = $"ts{i}";
            var created = await Admin.CreateSiteServerAsync(new CreateSiteServerRequest { Name = name, Kind = SiteServerKind.TaskServer }, ct);
            var ts = new HostedServer(name, $"{name}.tcm.lab", EndpointClass.Corporate, _topology, (port, c) => StartTaskServerAsync(name, port, created.RegistrationToken, c));
            _servers.Add(ts);
            await ts.StartAsync(ct);
        }

        // The corporate package server (UNC, HTTP, HTTPS codebases, and each site's host); its HTTPS listener is also a gateway
        // backend, and serves every HTTPS codebase, so one at a site published after the gateway started is relayed too.
        _packages = await LabPackageServer.StartAsync(
            _ns.IssueServerCertificate([LabPackageServer.HostName], [IPAddress.Loopback]), _topology, _loggers, ct);

        if (spec.Gateway)
        {
            var created = await Admin.CreateSiteServerAsync(new CreateSiteServerRequest { Name = "gateway", Kind = SiteServerKind.Gateway }, ct);
            var backends = _servers.ToArray();
            var packages = _packages;
            var gateway = new HostedServer("gateway", GatewayHost, EndpointClass.Public, _topology, (port, c) => StartGatewayAsync(port, backends, packages, created.RegistrationToken, c));
            _servers.Add(gateway);
            await gateway.StartAsync(ct);
            Cem = new CemSettings { GatewayAddress = $"{GatewayHost}:{gateway.Port}" };

            // Every agent gets the CEM settings through the Default profile, and so does the install package,
            // so an agent that first starts on the internet registers through the gateway.
            var profiles = await Admin.GetProfilesAsync(ct);
            var defaultProfile = profiles.First(p => p.Name == "Default");
            await Admin.SaveProfileAsync(defaultProfile with { Cem = Cem }, ct);
            Package = await _ns.CreateInstallPackageAsync(defaultProfile.Id, ct);
        }

        if (spec.Proxy is { } proxy)
        {
            // Beside the servers: it reaches them all; who reaches it is the simulated network's business (its endpoint's class).
            _proxy = LabProxy.Start(new TopologyNetwork(_topology), proxy.Credentials, _loggers.CreateLogger<LabProxy>());
            _proxyEndpoint = _topology.Register(LabProxy.HostName, _proxy.Port, proxy.Reach, new IPEndPoint(IPAddress.Loopback, _proxy.Port), "proxy");
            Proxy = new ProxySettings
            {
                Mode = ProxyMode.Explicit,
                Address = $"http://{LabProxy.HostName}:{_proxy.Port}",
                UserName = proxy.Credentials?.UserName,
                Password = proxy.Credentials?.Password,
            };
        }
    }

    /// <summary>The gateway's public host name; the simulated network reaches it from anywhere, never over a VPN adapter.</summary>
    public const string GatewayHost = "gw.tcm.lab";

    private Task<WebApplication> StartGatewayAsync(int port, IReadOnlyList<HostedServer> backends, LabPackageServer packages, string token, CancellationToken ct) =>
        StartServerAsync<GatewayOptions>(GatewayExtensions.AddGateway, GatewayExtensions.MapGateway, "gateway", port, GatewayHost, o =>
        {
            o.Name = "gw1";
            o.Backends = backends.Select(b => new GatewayBackendOptions
            {
                Name = b.Name,
                // Agents name the backends by their lab host names; the gateway dials their loopback ports.
                Address = $"{b.HostName}:{b.Port}",
                ConnectTo = $"127.0.0.1:{b.Port}",
                Kind = b.Name == "ns" ? BackendKind.NotificationServer : BackendKind.TaskServer,
                RegistrationToken = b.Name == "ns" ? token : null,
            }).Append(new GatewayBackendOptions
            {
                // HTTPS codebases: an agent in CEM fetches them through the relay (the package server's certificate is from the NS's CA).
                Name = "packages",
                Address = packages.HttpsAddress,
                ConnectTo = $"127.0.0.1:{packages.HttpsPort}",
                Kind = BackendKind.TaskServer,
                Identity = "ns",
            }).ToList();
        }, ct);

    private Task<WebApplication> StartNotificationServerAsync(string node, int port, bool tcm, CancellationToken ct) =>
        StartServerAsync<NotificationServerOptions>(NotificationServerExtensions.AddNotificationServer, NotificationServerExtensions.MapNotificationServer, node, port, HostOf(node), o =>
        {
            o.ServerName = node == "ns" ? "NS1" : node.ToUpperInvariant();
            o.NodeName = node == "ns" ? null : node;
            o.TcmEnabledAtFirstRun = tcm;
            o.Store = _database?.ConnectionString;
        }, ct);

    private Task<WebApplication> StartTaskServerAsync(string name, int port, string token, CancellationToken ct) =>
        StartServerAsync<TaskServerOptions>(TaskServerExtensions.AddTaskServer, TaskServerExtensions.MapTaskServer, name, port, $"{name}.tcm.lab", o =>
        {
            // The Task Server itself is not simulated: it reaches the NS on the real loopback address.
            o.NotificationServerUrl = _ns.BaseUrl;
            o.NotificationServerCaPem = _ns.CaCertificatePem;
            o.RegistrationToken = token;
        }, ct);

    /// <summary>
    /// Builds, maps and starts one server of the lab the way every one of them runs: its data in its own folder of the lab's, on the
    /// loopback address, named <paramref name="hostName"/> in its certificate; <paramref name="configure"/> sets the rest.
    /// </summary>
    private async Task<WebApplication> StartServerAsync<TOptions>(
        Func<WebApplicationBuilder, Action<TOptions>?, WebApplicationBuilder> add, Func<WebApplication, WebApplication> map,
        string folder, int port, string hostName, Action<TOptions> configure, CancellationToken ct)
        where TOptions : TcmServerOptions
    {
        var builder = CreateBuilder();
        add(builder, o =>
        {
            o.DataDirectory = Path.Combine(_dataDirectory, folder);
            o.ListenAddress = "127.0.0.1";
            o.Port = port;
            o.PublicHostName = hostName;
            configure(o);
        });
        var app = builder.Build();
        map(app);
        await app.StartAsync(ct);
        return app;
    }

    private WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggers);
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        return builder;
    }

    /// <summary>One server of the lab: started on port 0 the first time, then always on that port, so agents find it again.</summary>
    private sealed class HostedServer(string name, string hostName, EndpointClass endpointClass, NetworkTopology topology, Func<int, CancellationToken, Task<WebApplication>> start)
    {
        private RegisteredEndpoint? _endpoint;

        public string Name { get; } = name;

        public string HostName { get; } = hostName;

        public int Port { get; private set; }

        public WebApplication? App { get; private set; }

        public async Task StartAsync(CancellationToken ct)
        {
            if (App is not null)
            {
                return;
            }

            App = await start(Port, ct);
            var address = App.Urls.Select(u => new Uri(u)).FirstOrDefault()
                ?? throw new InvalidOperationException($"{Name} started without an address");
            Port = address.Port;
            _endpoint ??= topology.Register(HostName, Port, endpointClass, new IPEndPoint(IPAddress.Loopback, Port), Name);
            _endpoint.IsUp = true;
        }

        public async Task StopAsync(TimeSpan grace)
        {
            if (App is not { } app)
            {
                return;
            }

            App = null;
            if (_endpoint is not null)
            {
                _endpoint.IsUp = false;
            }

            // why: the server's own clock, so a lab on a fake clock bounds the stop the way the server's timers see it.
            using var window = new CancellationTokenSource(grace, app.Services.GetRequiredService<TimeProvider>());
            try
            {
                await app.StopAsync(window.Token);
            }
            catch (OperationCanceledException)
            {
            }

            await app.DisposeAsync();
        }
    }
}
