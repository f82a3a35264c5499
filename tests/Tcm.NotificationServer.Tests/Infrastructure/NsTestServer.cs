using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tcm.NotificationServer.Certificates;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>A real Notification Server on 127.0.0.1, port 0, over a temporary data folder.</summary>
internal sealed class NsTestServer : IAsyncDisposable
{
    private readonly bool _ownsDirectory;

    private NsTestServer(WebApplication app, string dataDirectory, bool ownsDirectory, CollectingLoggerProvider logs)
    {
        App = app;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
        Logs = logs;
        Info = app.Services.GetRequiredService<NotificationServerInfo>();
        Admin = CreateAdminClient();
    }

    public WebApplication App { get; }

    public NotificationServerInfo Info { get; }

    public string DataDirectory { get; }

    public CollectingLoggerProvider Logs { get; }

    /// <summary>An HTTP client that trusts the server's CA and sends the admin key.</summary>
    public HttpClient Admin { get; }

    public Uri ChannelUri => new(Info.BaseUrl.Replace("https://", "wss://", StringComparison.Ordinal) + TcmPaths.Channel);

    public static async Task<NsTestServer> StartAsync(Action<NotificationServerOptions>? configure = null, string? dataDirectory = null, bool tcmEnabled = false)
    {
        var ownsDirectory = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "tcm-ns-tests", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        Directory.CreateDirectory(dataDirectory);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = dataDirectory, EnvironmentName = Environments.Development });
        var logs = new CollectingLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.AddNotificationServer(options =>
        {
            options.DataDirectory = dataDirectory;
            options.ListenAddress = "127.0.0.1";
            options.Port = 0;
            options.TcmEnabledAtFirstRun = tcmEnabled;
            configure?.Invoke(options);
        });
        var app = builder.Build();
        app.MapNotificationServer();
        await app.StartAsync();
        return new NsTestServer(app, dataDirectory, ownsDirectory, logs);
    }

    public HttpClient CreateAdminClient(string? key = null, bool sendKey = true)
    {
        var client = new HttpClient(CreateHandler(null)) { BaseAddress = new Uri(Info.BaseUrl) };
        if (sendKey)
        {
            client.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, key ?? Info.AdminApiKey);
        }

        return client;
    }

    /// <summary>A handler that trusts only the server's CA and presents <paramref name="clientCertificate"/> when given.</summary>
    public SocketsHttpHandler CreateHandler(X509Certificate2? clientCertificate)
    {
        var ca = Info.CaCertificate;
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            if (certificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return handler;
    }

    public async Task<InstallPackage> CreatePackageAsync() => await Info.CreateInstallPackageAsync();

    /// <summary>Registers a new agent the way a real one does: its own key pair and a CSR.</summary>
    public async Task<TestAgent> RegisterAgentAsync(string computerName = "PC-0001", IReadOnlyDictionary<string, string>? attributes = null, string? domain = "corp.example")
    {
        var package = await CreatePackageAsync();
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={computerName}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        using var client = new HttpClient(CreateHandler(null)) { BaseAddress = new Uri(Info.BaseUrl) };
        var response = await client.PostAsJsonAsync(TcmPaths.Register, new RegisterRequest
        {
            RegistrationToken = package.RegistrationToken,
            ComputerName = computerName,
            Domain = domain,
            OsName = "Windows 11",
            CertificateSigningRequestPem = csr,
            Attributes = attributes,
        }, ProtocolJsonContext.Default.RegisterRequest);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var registered = (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.RegisterResponse))!;
        return new TestAgent(this, registered, CombineWithKey(registered.ClientCertificatePem, key), key);
    }

    /// <summary>A client certificate from this server's CA for an agent id the store does not know.</summary>
    public TestAgent CreateUnknownAgent()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=ignored", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        var id = AgentIds.NewId();
        var pem = App.Services.GetRequiredService<CertificateAuthority>().SignAgentCertificate(csr, id);
        var registered = new RegisterResponse
        {
            AgentId = id,
            ClientCertificatePem = pem,
            CaCertificatePem = Info.CaCertificatePem,
            Policy = new PolicyDocument { Etag = "", AgentId = id, Communication = new CommunicationSettings { ServerHosts = [] }, Settings = new AgentSettings() },
        };
        return new TestAgent(this, registered, CombineWithKey(pem, key), key);
    }

    public static X509Certificate2 CombineWithKey(string certificatePem, ECDsa key)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var withKey = certificate.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
    }

    public async Task SetTcmEnabledAsync(bool enabled)
    {
        var response = await Admin.PutAsJsonAsync($"{TcmPaths.Admin}/settings", new ServerSettings { TcmEnabled = enabled }, ProtocolJsonContext.Default.ServerSettings);
        response.EnsureSuccessStatusCode();
    }

    public async Task<T> AdminGetAsync<T>(string relativePath, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        var response = await Admin.GetAsync(TcmPaths.Admin + relativePath);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(typeInfo))!;
    }

    public async Task<TResponse> AdminPostAsync<TRequest, TResponse>(
        string relativePath,
        TRequest body,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TRequest> requestType,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TResponse> responseType)
    {
        var response = await Admin.PostAsJsonAsync(TcmPaths.Admin + relativePath, body, requestType);
        response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(responseType))!;
    }

    public static MediaTypeWithQualityHeaderValue JsonMediaType { get; } = new("application/json");

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownsDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
