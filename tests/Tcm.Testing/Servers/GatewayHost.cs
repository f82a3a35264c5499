using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.Gateway;
using Tcm.Gateway.Diagnostics;
using Tcm.Protocol;

namespace Tcm.Testing;

/// <summary>A real CEM gateway on 127.0.0.1 with its own data folder, restartable on the same port and identity.</summary>
public sealed class GatewayHost(ITestOutputHelper output, List<GatewayBackendOptions> backends, Action<GatewayOptions>? configure, X509Certificate2 trust) : IAsyncDisposable
{
    public const string Name = "gw-test";
    private WebApplication? _app;

    public string DataDirectory { get; } = TestFolders.NewPath("gw");
    public int Port { get; private set; }
    public GatewayInfo Info { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>The running gateway's services (what it configured Kestrel with, for example).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("the gateway is not running");

    /// <summary>The CA the gateway's TLS certificate chains to (its first NS's): what an agent's CEM settings trust.</summary>
    public X509Certificate2 Trust { get; } = trust;

    /// <summary>
    /// Starts a gateway for <paramref name="notificationServers"/> (each registered as a site server of kind gateway with a
    /// fresh token, so the gateway registers itself with each) and <paramref name="extraBackends"/>.
    /// </summary>
    public static async Task<GatewayHost> StartAsync(ITestOutputHelper output, IReadOnlyList<NotificationServerHost> notificationServers,
        IEnumerable<GatewayBackendOptions>? extraBackends = null, Action<GatewayOptions>? configure = null)
    {
        var backends = new List<GatewayBackendOptions>();
        for (var i = 0; i < notificationServers.Count; i++)
        {
            var ns = notificationServers[i];
            var created = await ns.CreateSiteServerAsync(Name, SiteServerKind.Gateway);
            // The address agents are given (policies, install packages): localhost, as the NS publishes it.
            backends.Add(new GatewayBackendOptions { Name = $"ns{i + 1}", Address = new Uri(ns.Info.PublicUrl).Authority, Kind = BackendKind.NotificationServer, RegistrationToken = created.RegistrationToken });
        }

        backends.AddRange(extraBackends ?? []);
        // A copy: the NS disposes its own when it stops, and the gateway outlives NS restarts.
        var host = new GatewayHost(output, backends, configure, TestCertificates.PublicCopy(notificationServers[0].Info.CaCertificate));
        await host.StartAsync();
        return host;
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddProvider(new XunitLoggerProvider(output, "GW   ")).SetMinimumLevel(LogLevel.Information);
        builder.AddGateway(o =>
        {
            o.Name = Name;
            o.DataDirectory = DataDirectory;
            o.Port = Port;
            o.ListenAddress = "127.0.0.1";
            o.Backends = backends;
            configure?.Invoke(o);
        });
        var app = await ServerApps.StartAsync(builder, a => a.MapGateway());
        _app = app;
        Info = app.Services.GetRequiredService<GatewayInfo>();
        Port = new Uri(Info.BaseUrl).Port;
        Admin?.Dispose();
        Admin = new HttpClient(TestCertificates.CreateHandler(Trust, null)) { BaseAddress = new Uri(Info.BaseUrl) };
        Admin.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, Info.AdminApiKey);
    }

    public Task StopAsync() => ServerApps.StopAsync(Interlocked.Exchange(ref _app, null));

    public async Task<GatewayStatus> GetStatusAsync() =>
        (await Admin.GetFromJsonAsync(GatewayPaths.Status, GatewayJsonContext.Default.GatewayStatus))!;

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Admin?.Dispose();
        TestFolders.TryDelete(DataDirectory);
    }
}
