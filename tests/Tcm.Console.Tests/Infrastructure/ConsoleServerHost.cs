using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.Agent;
using Tcm.Agent.Network;
using Tcm.Agent.State;
using Tcm.Agent.Tasks;
using Tcm.NotificationServer;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Console.Tests.Infrastructure;

/// <summary>A real Notification Server on 127.0.0.1 (port 0, own data folder) and real agents over loopback sockets.</summary>
internal sealed class ConsoleServerHost : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly List<TcmAgent> _agents = [];
    private WebApplication? _app;

    private ConsoleServerHost(ITestOutputHelper output, string dataDirectory)
    {
        _output = output;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }
    public NotificationServerInfo Info { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;
    public string BaseUrl => Info.BaseUrl;
    public IReadOnlyList<TcmAgent> Agents => _agents;

    public static async Task<ConsoleServerHost> StartAsync(ITestOutputHelper output)
    {
        var host = new ConsoleServerHost(output, Path.Combine(Path.GetTempPath(), "tcm-console-tests", Guid.NewGuid().ToString("N")[..12]));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddProvider(new XunitLoggerProvider(output, "NS   ")).SetMinimumLevel(LogLevel.Information);
        builder.AddNotificationServer(o =>
        {
            o.DataDirectory = host.DataDirectory;
            o.Port = 0;
            o.ListenAddress = "127.0.0.1";
            o.TcmEnabledAtFirstRun = false;
            o.ServerName = "NS-CONSOLE-TEST";
        });
        var app = builder.Build();
        app.MapNotificationServer();
        await app.StartAsync();
        host._app = app;
        host.Info = app.Services.GetRequiredService<NotificationServerInfo>();
        host.Admin = CreateClient(host.Info, useKey: true, cookies: null);
        return host;
    }

    /// <summary>An HTTPS client that trusts the server's CA; with the admin key or not; with a cookie jar or not.</summary>
    public static HttpClient CreateClient(NotificationServerInfo info, bool useKey, CookieContainer? cookies)
    {
        var ca = X509Certificate2.CreateFromPem(info.CaCertificatePem);
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = cookies is not null, CookieContainer = cookies ?? new CookieContainer() };
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
        if (useKey)
        {
            client.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, info.AdminApiKey);
        }

        return client;
    }

    /// <summary>Starts a real agent that polls every <paramref name="poll"/> while it has no persistent connection.</summary>
    public async Task<TcmAgent> StartAgentAsync(string computerName, string group, TimeSpan poll)
    {
        var package = await Info.CreateInstallPackageAsync();
        var loggers = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(_output, $"{computerName,-8}")).SetMinimumLevel(LogLevel.Information));
        var options = new AgentOptions
        {
            Package = package,
            ComputerName = computerName,
            Domain = "corp.test",
            OsName = "Windows 11 Enterprise",
            Attributes = new Dictionary<string, string> { ["group"] = group, ["site"] = "Berlin" },
            Backoff = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(100), Max = TimeSpan.FromMilliseconds(800) },
            PolicyRefreshOverride = poll,
            TaskPollOverride = poll,
        };
        var agent = new TcmAgent(options, new OsNetwork(), new InMemoryAgentStateStore(), new BuiltInTaskExecutor(), TimeProvider.System, loggers);
        await agent.StartAsync(CancellationToken.None);
        _agents.Add(agent);
        return agent;
    }

    public async Task<CommunicationProfile> GetProfileAsync(string id) =>
        (await Admin.GetFromJsonAsync($"/tcm/admin/profiles/{id}", ProtocolJsonContext.Default.CommunicationProfile))!;

    public async Task PutProfileAsync(CommunicationProfile profile)
    {
        var response = await Admin.PutAsJsonAsync($"/tcm/admin/profiles/{profile.Id}", profile, ProtocolJsonContext.Default.CommunicationProfile);
        response.EnsureSuccessStatusCode();
    }

    public async Task<AgentInfo> GetAgentAsync(string id) =>
        (await Admin.GetFromJsonAsync($"/tcm/admin/agents/{id}", ProtocolJsonContext.Default.AgentInfo))!;

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }

        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }

        Admin?.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
