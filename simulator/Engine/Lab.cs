using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.NotificationServer;
using Tcm.Protocol;
using Tcm.Simulator.Network;
using Tcm.Simulator.Scenarios;
using Tcm.Gateway;
using Tcm.TaskServer;

namespace Tcm.Simulator.Engine;

/// <summary>
/// The system under test: the real servers, started in this process on loopback ports with a fresh data folder
/// (a lab), or a system that already runs elsewhere (external). Either way the simulator sees it through its admin API,
/// an install package, and the endpoints it registers in the run's <see cref="NetworkTopology"/>.
/// </summary>
internal interface ISystemUnderTest : IAsyncDisposable
{
    AdminClient Admin { get; }

    InstallPackage Package { get; }

    string Description { get; }

    /// <summary>Whether pushed tasks go through Task Servers (the Client Task Agent's connection) rather than the NS channel.</summary>
    bool HasTaskServers { get; }

    /// <summary>The CEM settings agents get (the gateway's address), or null when the system has no gateway.</summary>
    CemSettings? Cem { get; }

    /// <summary>Stops (gracefully), kills (connections cut at once) or starts a server by its scenario name (<c>ns</c>, <c>ts1</c>, <c>gateway</c>).</summary>
    Task ControlAsync(ServerOperation operation, string server, CancellationToken ct);

    /// <summary>
    /// Makes package <paramref name="id"/> (<paramref name="sizeBytes"/> bytes) available on the system's package server and returns
    /// it with one codebase per distinct kind and site in <paramref name="codebases"/> (a site's UNC and HTTP codebases on the
    /// site's own host, see <see cref="LabPackageServer"/>). Throws <see cref="NotSupportedException"/> when the system has none.
    /// </summary>
    PackageReference PublishPackage(string id, long sizeBytes, IReadOnlyList<CodebaseSpec> codebases);
}

/// <summary>
/// An in-process lab: a real Notification Server and Task Servers on 127.0.0.1, each behind the simulated network's
/// corporate host name (<c>ns.tcm.lab</c>, <c>ts1.tcm.lab</c>, ...), each with its own data folder, restartable on its port.
/// </summary>
internal sealed class Lab : ISystemUnderTest
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

    private Lab(NetworkTopology topology, string dataDirectory, bool keepData, ILoggerFactory loggers)
    {
        _topology = topology;
        _dataDirectory = dataDirectory;
        _keepData = keepData;
        _loggers = loggers;
    }

    public AdminClient Admin { get; private set; } = null!;

    public InstallPackage Package { get; private set; } = null!;

    public bool HasTaskServers => _servers.Any(s => s.Name.StartsWith("ts", StringComparison.Ordinal));

    public CemSettings? Cem { get; private set; }

    public string Description => "lab: " + string.Join(", ", _servers.Select(s => $"{s.Name} https://{s.HostName}:{s.Port}")) + $"; data in {_dataDirectory}";

    public static async Task<Lab> StartAsync(LabSystem spec, NetworkTopology topology, string dataDirectory, bool keepData, ILoggerFactory loggers, CancellationToken ct)
    {
        var lab = new Lab(topology, dataDirectory, keepData, loggers);
        try
        {
            await lab.StartAllAsync(spec, ct);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    public async Task ControlAsync(ServerOperation operation, string server, CancellationToken ct)
    {
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

    public PackageReference PublishPackage(string id, long sizeBytes, IReadOnlyList<CodebaseSpec> codebases) =>
        (_packages ?? throw new NotSupportedException("the lab's package server is not running")).Publish(id, sizeBytes, codebases);

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

        Admin?.Dispose();
        if (!_keepData)
        {
            try
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task StartAllAsync(LabSystem spec, CancellationToken ct)
    {
        var ns = new HostedServer("ns", NotificationServerHost, EndpointClass.Corporate, _topology, (port, c) => StartNotificationServerAsync(port, spec.Tcm, c));
        _servers.Add(ns);
        await ns.StartAsync(ct);
        _ns = ns.App!.Services.GetRequiredService<NotificationServerInfo>();
        Admin = new AdminClient(new Uri(_ns.BaseUrl), _ns.AdminApiKey, X509Certificate2.CreateFromPem(_ns.CaCertificatePem));
        Package = await _ns.CreateInstallPackageAsync(ct: ct);

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
        var authority = ns.App!.Services.GetRequiredService<Tcm.NotificationServer.Certificates.CertificateAuthority>();
        _packages = await LabPackageServer.StartAsync(
            authority.IssueServerCertificate([LabPackageServer.HostName], [IPAddress.Loopback]), _topology, _loggers, ct);

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
    }

    /// <summary>The gateway's public host name; the simulated network reaches it from anywhere, never over a VPN adapter.</summary>
    public const string GatewayHost = "gw.tcm.lab";

    private async Task<WebApplication> StartGatewayAsync(int port, IReadOnlyList<HostedServer> backends, LabPackageServer packages, string token, CancellationToken ct)
    {
        var builder = CreateBuilder();
        builder.AddGateway(o =>
        {
            o.Name = "gw1";
            o.DataDirectory = Path.Combine(_dataDirectory, "gateway");
            o.ListenAddress = "127.0.0.1";
            o.Port = port;
            o.PublicHostName = GatewayHost;
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
        });
        var app = builder.Build();
        app.MapGateway();
        await app.StartAsync(ct);
        return app;
    }

    private async Task<WebApplication> StartNotificationServerAsync(int port, bool tcm, CancellationToken ct)
    {
        var builder = CreateBuilder();
        builder.AddNotificationServer(o =>
        {
            o.DataDirectory = Path.Combine(_dataDirectory, "ns");
            o.ListenAddress = "127.0.0.1";
            o.Port = port;
            o.PublicHostName = NotificationServerHost;
            o.ServerName = "NS1";
            o.TcmEnabledAtFirstRun = tcm;
        });
        var app = builder.Build();
        app.MapNotificationServer();
        await app.StartAsync(ct);
        return app;
    }

    private async Task<WebApplication> StartTaskServerAsync(string name, int port, string token, CancellationToken ct)
    {
        var builder = CreateBuilder();
        builder.AddTaskServer(o =>
        {
            o.DataDirectory = Path.Combine(_dataDirectory, name);
            o.ListenAddress = "127.0.0.1";
            o.Port = port;
            o.PublicHostName = $"{name}.tcm.lab";
            // The Task Server itself is not simulated: it reaches the NS on the real loopback address.
            o.NotificationServerUrl = _ns.BaseUrl;
            o.NotificationServerCaPem = _ns.CaCertificatePem;
            o.RegistrationToken = token;
        });
        var app = builder.Build();
        app.MapTaskServer();
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

            using var window = new CancellationTokenSource(grace);
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

/// <summary>A system that already runs: the simulator only drives it through its admin API and connects agents to it.</summary>
internal sealed class ExternalSystem : ISystemUnderTest
{
    private ExternalSystem(AdminClient admin, InstallPackage package, Uri url)
    {
        Admin = admin;
        Package = package;
        Description = $"external: Notification Server {url}";
    }

    public AdminClient Admin { get; }

    public InstallPackage Package { get; }

    public string Description { get; }

    public bool HasTaskServers => false;

    public CemSettings? Cem => null;

    public static async Task<ExternalSystem> ConnectAsync(Scenarios.ExternalSystem spec, NetworkTopology topology, CancellationToken ct)
    {
        var adminKey = spec.AdminKey ?? Environment.GetEnvironmentVariable("TCM_ADMIN_KEY")
            ?? throw new InvalidOperationException("an external system needs an admin key: set system.external.adminKey in the scenario, --admin-key, or the TCM_ADMIN_KEY environment variable");
        var ca = spec.CaFile is null ? null : X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(spec.CaFile, ct));
        var admin = new AdminClient(spec.Url, adminKey, ca);
        var profiles = await admin.GetProfilesAsync(ct);
        var profile = profiles.OrderBy(p => p.Priority).FirstOrDefault(p => p.Name == "Default") ?? profiles.OrderBy(p => p.Priority).First();
        var package = await admin.CreatePackageAsync(profile.Id, ct);
        var url = new Uri(package.ServerUrl);
        var addresses = await Dns.GetHostAddressesAsync(url.Host, ct);
        var target = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? IPAddress.Loopback;
        topology.Register(url.Host, url.Port, EndpointClass.Corporate, new IPEndPoint(target, url.Port), "ns");
        return new ExternalSystem(admin, package, spec.Url);
    }

    public PackageReference PublishPackage(string id, long sizeBytes, IReadOnlyList<CodebaseSpec> codebases) =>
        throw new NotSupportedException("package downloads need the lab's package server; an external system has none the simulator knows");

    public Task ControlAsync(ServerOperation operation, string server, CancellationToken ct) =>
        throw new NotSupportedException($"cannot {operation.ToString().ToLowerInvariant()} '{server}': the simulator does not own the servers of an external system");

    public ValueTask DisposeAsync()
    {
        Admin.Dispose();
        return ValueTask.CompletedTask;
    }
}
