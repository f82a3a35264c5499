using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.NotificationServer;
using Tcm.Protocol;
using Tcm.Simulator.Network;
using Tcm.Simulator.Scenarios;

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

    /// <summary>Stops (gracefully), kills (connections cut at once) or starts a server by its scenario name (<c>ns</c>, <c>ts1</c>, <c>gateway</c>).</summary>
    Task ControlAsync(ServerOperation operation, string server, CancellationToken ct);
}

/// <summary>An in-process lab: a real Notification Server on 127.0.0.1 behind the simulated network's corporate address.</summary>
internal sealed class Lab : ISystemUnderTest
{
    /// <summary>The NS host name agents dial; the simulated network maps it to the loopback port.</summary>
    public const string NotificationServerHost = "ns.tcm.lab";

    private readonly string _dataDirectory;
    private readonly bool _keepData;
    private readonly ILoggerFactory _loggers;
    private readonly NetworkTopology _topology;
    private WebApplication? _ns;
    private int _port;
    private RegisteredEndpoint? _nsEndpoint;
    private bool _tcmAtFirstRun;

    private Lab(NetworkTopology topology, string dataDirectory, bool keepData, ILoggerFactory loggers)
    {
        _topology = topology;
        _dataDirectory = dataDirectory;
        _keepData = keepData;
        _loggers = loggers;
    }

    public AdminClient Admin { get; private set; } = null!;

    public InstallPackage Package { get; private set; } = null!;

    public string Description => $"lab: Notification Server https://{NotificationServerHost}:{_port} (127.0.0.1:{_port}), data in {_dataDirectory}";

    public static async Task<Lab> StartAsync(LabSystem spec, NetworkTopology topology, string dataDirectory, bool keepData, ILoggerFactory loggers, CancellationToken ct)
    {
        var lab = new Lab(topology, dataDirectory, keepData, loggers) { _tcmAtFirstRun = spec.Tcm };
        await lab.StartNotificationServerAsync(ct);
        var info = lab._ns!.Services.GetRequiredService<NotificationServerInfo>();
        lab.Admin = new AdminClient(new Uri(info.BaseUrl), info.AdminApiKey, X509Certificate2.CreateFromPem(info.CaCertificatePem));
        lab.Package = await info.CreateInstallPackageAsync(ct: ct);
        return lab;
    }

    public async Task ControlAsync(ServerOperation operation, string server, CancellationToken ct)
    {
        if (!string.Equals(server, "ns", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"the lab has no server '{server}' yet: it runs the Notification Server ('ns'); Task Servers and the gateway join it with their issues");
        }

        switch (operation)
        {
            case ServerOperation.Start when _ns is null:
                await StartNotificationServerAsync(ct);
                break;
            case ServerOperation.Start:
                break;
            case ServerOperation.Stop:
                await StopNotificationServerAsync(TimeSpan.FromSeconds(5));
                break;
            case ServerOperation.Kill:
                // A kill gives connections no goodbye: the shutdown window is zero, so Kestrel aborts them.
                await StopNotificationServerAsync(TimeSpan.Zero);
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopNotificationServerAsync(TimeSpan.FromSeconds(2));
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

    private async Task StartNotificationServerAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggers);
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.AddNotificationServer(o =>
        {
            o.DataDirectory = _dataDirectory;
            o.ListenAddress = "127.0.0.1";
            o.Port = _port;
            o.PublicHostName = NotificationServerHost;
            o.ServerName = "NS1";
            o.TcmEnabledAtFirstRun = _tcmAtFirstRun;
        });
        var app = builder.Build();
        app.MapNotificationServer();
        await app.StartAsync(ct);
        _ns = app;
        _port = new Uri(app.Services.GetRequiredService<NotificationServerInfo>().BaseUrl).Port;
        _nsEndpoint ??= _topology.Register(NotificationServerHost, _port, EndpointClass.Corporate, new IPEndPoint(IPAddress.Loopback, _port), "ns");
        _nsEndpoint.IsUp = true;
    }

    private async Task StopNotificationServerAsync(TimeSpan grace)
    {
        if (_ns is not { } app)
        {
            return;
        }

        _ns = null;
        if (_nsEndpoint is not null)
        {
            _nsEndpoint.IsUp = false;
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

    public static async Task<ExternalSystem> ConnectAsync(Scenarios.ExternalSystem spec, NetworkTopology topology, CancellationToken ct)
    {
        var adminKey = spec.AdminKey ?? Environment.GetEnvironmentVariable("TCM_ADMIN_KEY")
            ?? throw new InvalidOperationException("an external system needs an admin key: set system.external.adminKey in the scenario or the TCM_ADMIN_KEY environment variable");
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

    public Task ControlAsync(ServerOperation operation, string server, CancellationToken ct) =>
        throw new NotSupportedException($"cannot {operation.ToString().ToLowerInvariant()} '{server}': the simulator does not own the servers of an external system");

    public ValueTask DisposeAsync()
    {
        Admin.Dispose();
        return ValueTask.CompletedTask;
    }
}
