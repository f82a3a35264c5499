using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.Protocol;
using Tcm.TaskServer;

namespace Tcm.Testing;

/// <summary>A real Task Server on 127.0.0.1: created at the NS by the admin API (token), registered on first start, killable.</summary>
public sealed class TaskServerHost(ITestOutputHelper output, NotificationServerHost ns, string name, string token, int maxAgents, Action<TaskServerOptions>? configure = null) : IAsyncDisposable
{
    private WebApplication? _app;

    public string Name => name;
    public string DataDirectory { get; } = TestFolders.NewPath("ts");
    public TaskServerInfo Info { get; private set; } = null!;

    /// <summary>The Task Server's admin key (generated into its data folder on first start).</summary>
    public string AdminKey { get; private set; } = null!;
    public bool IsRunning => _app is not null;

    /// <summary>The running Task Server's services.</summary>
    public IServiceProvider Services => (_app ?? throw new InvalidOperationException("The Task Server is not running.")).Services;

    /// <summary>Creates the site server at the NS (admin API) and starts the Task Server with the token.</summary>
    /// <param name="output">Where its log goes.</param>
    /// <param name="ns">The Notification Server it registers with.</param>
    /// <param name="name">Its site-server name.</param>
    /// <param name="maxAgents">Its capacity.</param>
    /// <param name="configure">Further options, after the test's defaults.</param>
    public static async Task<TaskServerHost> StartAsync(ITestOutputHelper output, NotificationServerHost ns, string name, int maxAgents = 5000, Action<TaskServerOptions>? configure = null)
    {
        var created = await ns.CreateSiteServerAsync(name, SiteServerKind.TaskServer);
        var host = new TaskServerHost(output, ns, name, created.RegistrationToken, maxAgents, configure);
        await host.StartAsync();
        return host;
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddProvider(new XunitLoggerProvider(output, $"{name,-5}")).SetMinimumLevel(LogLevel.Information);
        builder.AddTaskServer(o =>
        {
            o.DataDirectory = DataDirectory;
            o.Port = 0;
            o.ListenAddress = "127.0.0.1";
            o.PublicHostName = "127.0.0.1";
            o.NotificationServerUrl = ns.Info.BaseUrl;
            o.NotificationServerCaPem = ns.Info.CaCertificatePem;
            o.RegistrationToken = token;
            o.MaxAgents = maxAgents;
            o.NotificationServerRetryMax = TimeSpan.FromMilliseconds(500);
            configure?.Invoke(o);
        });
        var app = await ServerApps.StartAsync(builder, a => a.MapTaskServer());
        _app = app;
        Info = app.Services.GetRequiredService<TaskServerInfo>();
        AdminKey = app.Services.GetRequiredService<Tcm.Hosting.Admin.AdminKey>().Value;
    }

    /// <summary>A client of the Task Server (trusting the NS CA that issued its certificate), sending the admin key unless <paramref name="sendKey"/> is false.</summary>
    public HttpClient CreateAdminClient(bool sendKey = true)
    {
        var client = new HttpClient(ns.CreateHandler()) { BaseAddress = new Uri(Info.BaseUrl) };
        if (sendKey)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
        }

        return client;
    }

    /// <summary>Stops at once: open connections are aborted, as when the process dies.</summary>
    public Task KillAsync() => ServerApps.StopAsync(Interlocked.Exchange(ref _app, null), ServerApps.Now);

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        TestFolders.TryDelete(DataDirectory);
    }
}
