using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.NotificationServer;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>A real Notification Server on 127.0.0.1 with its own data folder, restartable on the same port and data.</summary>
internal sealed class NotificationServerHost : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly bool _tcmOn;
    private WebApplication? _app;

    private NotificationServerHost(ITestOutputHelper output, string dataDirectory, bool tcmOn)
    {
        _output = output;
        DataDirectory = dataDirectory;
        _tcmOn = tcmOn;
    }

    public string DataDirectory { get; }
    public int Port { get; private set; }
    public NotificationServerInfo Info { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;
    public bool IsRunning => _app is not null;

    /// <summary>The running server's services (its CA, for stub backends that need a certificate it issued).</summary>
    public IServiceProvider Services => (_app ?? throw new InvalidOperationException("not running")).Services;

    public static async Task<NotificationServerHost> StartAsync(ITestOutputHelper output, bool tcmOn)
    {
        var dir = Path.Combine(Path.GetTempPath(), "tcm-tests", Guid.NewGuid().ToString("N")[..12]);
        var host = new NotificationServerHost(output, dir, tcmOn);
        await host.StartAsync();
        return host;
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddProvider(new XunitLoggerProvider(_output, "NS   ")).SetMinimumLevel(LogLevel.Information);
        builder.AddNotificationServer(o =>
        {
            o.DataDirectory = DataDirectory;
            o.Port = Port;
            o.ListenAddress = "127.0.0.1";
            o.TcmEnabledAtFirstRun = _tcmOn;
            o.ServerName = "ns-under-test";
        });
        var app = builder.Build();
        app.MapNotificationServer();
        await app.StartAsync();
        _app = app;
        Info = app.Services.GetRequiredService<NotificationServerInfo>();
        Port = new Uri(Info.BaseUrl).Port;
        Admin?.Dispose();
        Admin = CreateAdminClient(Info);
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async Task SetTcmAsync(bool enabled)
    {
        var response = await Admin.PutAsJsonAsync("/tcm/admin/settings", new ServerSettings { TcmEnabled = enabled }, ProtocolJsonContext.Default.ServerSettings);
        response.EnsureSuccessStatusCode();
    }

    public async Task<ActionCreated> PushTaskAsync(PushTaskRequest request)
    {
        var response = await Admin.PostAsJsonAsync("/tcm/admin/actions/task", request, ProtocolJsonContext.Default.PushTaskRequest);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ActionCreated))!;
    }

    public async Task<ActionStatus> GetActionAsync(string actionId) =>
        (await Admin.GetFromJsonAsync($"/tcm/admin/actions/{actionId}", ProtocolJsonContext.Default.ActionStatus))!;

    public async Task<AgentInfo> GetAgentAsync(string agentId) =>
        (await Admin.GetFromJsonAsync($"/tcm/admin/agents/{agentId}", ProtocolJsonContext.Default.AgentInfo))!;

    public async Task<CommunicationProfile> GetDefaultProfileAsync()
    {
        var profiles = await Admin.GetFromJsonAsync("/tcm/admin/profiles", ProtocolJsonContext.Default.IReadOnlyListCommunicationProfile);
        return profiles!.Single(p => p.Name == "Default");
    }

    public async Task UpdateProfileAsync(CommunicationProfile profile)
    {
        var response = await Admin.PutAsJsonAsync($"/tcm/admin/profiles/{profile.Id}", profile, ProtocolJsonContext.Default.CommunicationProfile);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Admin?.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static HttpClient CreateAdminClient(NotificationServerInfo info)
    {
        var ca = X509Certificate2.CreateFromPem(info.CaCertificatePem);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) =>
        {
            if (cert is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(cert));
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri(info.BaseUrl) };
        client.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, info.AdminApiKey);
        return client;
    }
}
