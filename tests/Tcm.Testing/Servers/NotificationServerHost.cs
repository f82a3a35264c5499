using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tcm.Lab.Storage;
using Tcm.NotificationServer;
using Tcm.Protocol;

namespace Tcm.Testing;

/// <summary>
/// A real Notification Server for tests: Kestrel on 127.0.0.1 (port 0 at first, the same port on a restart), real TLS
/// from the server's own CA, a temporary data folder, and an admin client that trusts only that CA. Its store is the SQLite
/// file in that folder, or under <c>TCM_TEST_STORE=postgresql</c> a fresh PostgreSQL database of its own (the store hooks
/// are in <c>NotificationServerHost.Store.cs</c>). Every
/// log entry is kept in <see cref="Logs"/>; with an <see cref="ITestOutputHelper"/> they also go to the test's output.
/// The admin API calls tests share are in <c>NotificationServerHost.Admin.cs</c>.
/// </summary>
public sealed partial class NotificationServerHost : IAsyncDisposable
{
    /// <summary>The server name tests see unless they configure another.</summary>
    public const string DefaultServerName = "ns-under-test";

    private readonly ITestOutputHelper? _output;
    private readonly bool _tcmEnabled;
    private readonly Action<NotificationServerOptions>? _configure;
    private readonly bool _ownsDirectory;
    private readonly TimeProvider? _time;
    private readonly Action<IServiceCollection>? _services;
    private WebApplication? _app;
    private HttpClient? _admin;

    private NotificationServerHost(ITestOutputHelper? output, bool tcmEnabled, Action<NotificationServerOptions>? configure, string dataDirectory, bool ownsDirectory, TimeProvider? time, StoreKind store, Action<IServiceCollection>? services)
    {
        _time = time;
        Store = store;
        _services = services;
        _output = output;
        _tcmEnabled = tcmEnabled;
        _configure = configure;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
    }

    /// <summary>The data folder: a new one under the temp folder (deleted on dispose) unless the test gave its own.</summary>
    public string DataDirectory { get; }

    /// <summary>The bound port: chosen at the first start, kept on restarts.</summary>
    public int Port { get; private set; }

    /// <summary>True between <see cref="StartAsync(CancellationToken)"/> and <see cref="StopAsync"/>.</summary>
    public bool IsRunning => _app is not null;

    /// <summary>The running application.</summary>
    public WebApplication App => _app ?? throw new InvalidOperationException("The Notification Server is not running.");

    /// <summary>The running server's services (its internals, for test projects that may see them).</summary>
    public IServiceProvider Services => App.Services;

    /// <summary>What the running server tells about itself: addresses, admin key, CA, install packages.</summary>
    public NotificationServerInfo Info { get; private set; } = null!;

    /// <summary>Every log entry of every start, at every level.</summary>
    public CollectingLoggerProvider Logs { get; } = new();

    /// <summary>An HTTP client that trusts the server's CA and sends the admin key; renewed on each start.</summary>
    public HttpClient Admin => _admin ?? throw new InvalidOperationException("The Notification Server has not started.");

    /// <summary>The bound URL, e.g. <c>https://127.0.0.1:49152</c>.</summary>
    public string BaseUrl => Info.BaseUrl;

    /// <summary>The channel's <c>wss://</c> URL.</summary>
    public Uri ChannelUri => new(Info.BaseUrl.Replace("https://", "wss://", StringComparison.Ordinal) + TcmPaths.Channel);

    /// <summary>Starts a server.</summary>
    /// <param name="output">Where its log goes besides <see cref="Logs"/>; none when null.</param>
    /// <param name="tcmEnabled">The "TCM communication" setting at first run.</param>
    /// <param name="configure">Changes the options after the kit's (127.0.0.1, port 0, data folder, <see cref="DefaultServerName"/>).</param>
    /// <param name="dataDirectory">A folder the test owns (to start a second server on the same data); a new temporary one when null.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <param name="time">The server's clock on every start (a <c>FakeTimeProvider</c> a test moves); the system clock when null.</param>
    /// <param name="store">The store; null: what <c>TCM_TEST_STORE</c> picks (SQLite when unset).</param>
    /// <param name="services">Replaces some of the server's services after its own are added (a test double in place of a real one).</param>
    public static async Task<NotificationServerHost> StartAsync(
        ITestOutputHelper? output = null,
        bool tcmEnabled = false,
        Action<NotificationServerOptions>? configure = null,
        string? dataDirectory = null,
        CancellationToken cancellationToken = default,
        TimeProvider? time = null,
        StoreKind? store = null,
        Action<IServiceCollection>? services = null)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "tcm-tests", "ns-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        var host = new NotificationServerHost(output, tcmEnabled, configure, dataDirectory, owns, time, store ?? StoreSelection.Selected, services);
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }

    /// <summary>Starts the server again after <see cref="StopAsync"/>: same port, same data.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(DataDirectory);
        await OpenDatabaseAsync(cancellationToken);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = DataDirectory, EnvironmentName = Environments.Development });
        builder.Logging.ClearProviders().AddProvider(Logs).SetMinimumLevel(LogLevel.Debug);
        if (_output is not null)
        {
            builder.Logging.AddProvider(new XunitLoggerProvider(_output, "NS   "));
        }

        if (_time is not null)
        {
            builder.Services.AddSingleton(_time);
        }

        builder.AddNotificationServer(o =>
        {
            o.DataDirectory = DataDirectory;
            o.ListenAddress = "127.0.0.1";
            o.Port = Port;
            o.TcmEnabledAtFirstRun = _tcmEnabled;
            o.ServerName = DefaultServerName;
            o.Store = StoreConnectionString;
            _configure?.Invoke(o);
        });
        _services?.Invoke(builder.Services);
        var app = await ServerApps.StartAsync(builder, a => a.MapNotificationServer(), cancellationToken);
        _app = app;
        Info = app.Services.GetRequiredService<NotificationServerInfo>();
        Port = new Uri(Info.BaseUrl).Port;
        _admin?.Dispose();
        _admin = CreateAdminClient();
    }

    /// <summary>Stops the server (gracefully; a cancelled token aborts open connections, as when the process dies).</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        ServerApps.StopAsync(Interlocked.Exchange(ref _app, null), cancellationToken);

    /// <summary>A handler whose TLS trusts only this server's CA and presents <paramref name="clientCertificate"/> when given.</summary>
    public SocketsHttpHandler CreateHandler(X509Certificate2? clientCertificate = null, CookieContainer? cookies = null) =>
        TestCertificates.CreateHandler(Info.CaCertificate, clientCertificate, cookies);

    /// <summary>A client of this server's base URL without the admin key: an agent with <paramref name="clientCertificate"/>, a browser with <paramref name="cookies"/>.</summary>
    public HttpClient CreateClient(X509Certificate2? clientCertificate = null, CookieContainer? cookies = null) =>
        new(CreateHandler(clientCertificate, cookies)) { BaseAddress = new Uri(Info.BaseUrl) };

    /// <summary>A client that sends <paramref name="key"/> (the server's admin key by default) as the admin key header, or no key.</summary>
    public HttpClient CreateAdminClient(string? key = null, bool sendKey = true, CookieContainer? cookies = null)
    {
        var client = CreateClient(cookies: cookies);
        if (sendKey)
        {
            client.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, key ?? Info.AdminApiKey);
        }

        return client;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _admin?.Dispose();
        if (_ownsDirectory)
        {
            TestFolders.TryDelete(DataDirectory);
        }
    }
}
