using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Text.Json.Serialization.Metadata;
using Tcm.Gateway.Identity;
using Tcm.Gateway.Relay;
using Tcm.Hosting.Certificates;
using Tcm.Protocol;

namespace Tcm.Gateway.Management;

/// <summary>The gateway's two calls to one Notification Server (a seam for tests of <see cref="ManagementLoop"/>).</summary>
internal interface IManagementClient
{
    /// <summary>The NS this client calls (its backend name), for logs.</summary>
    string NotificationServer { get; }

    /// <summary>POST the report; throws <see cref="HttpRequestException"/> when the NS does not take it.</summary>
    Task ReportAsync(GatewayReport report, CancellationToken ct);

    /// <summary>POST the decisions applied since the last poll and wait up to <paramref name="wait"/> for new ones.</summary>
    Task<GatewayDecisions> PollAsync(GatewayDecisionPoll poll, TimeSpan wait, CancellationToken ct);
}

/// <summary>
/// Calls one Notification Server with the gateway's site-server certificate of that NS (the NS's TLS certificate must chain to
/// the NS's CA), over HTTP/2 where the NS offers it, so the report and the long poll share one connection.
/// </summary>
internal sealed class ManagementClient : IManagementClient, IDisposable
{
    private readonly SocketsHttpHandler _handler;
    private readonly HttpClient _client;
    private readonly TimeProvider _time;

    public ManagementClient(GatewayBackendOptions backend, SiteServerIdentity identity, TimeProvider time)
    {
        _time = time;
        _handler = new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = BackendDialer.Create([backend]),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, c, _, e) => CertificateTrust.ValidateServer(c, e, identity.Ca),
                ClientCertificateContext = SslStreamCertificateContext.Create(identity.Certificate, null, offline: true),
            },
        };
        _client = new HttpClient(_handler, disposeHandler: false)
        {
            BaseAddress = new Uri($"https://{backend.Address}"),
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        NotificationServer = backend.Name;
    }

    public string NotificationServer { get; }

    /// <summary>A report is small: it has this long.</summary>
    internal static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(30);

    public async Task ReportAsync(GatewayReport report, CancellationToken ct)
    {
        using var response = await PostAsync(GatewayManagementPaths.Report, report, ProtocolJsonContext.Default.GatewayReport, ReportTimeout, ct).ConfigureAwait(false);
    }

    public async Task<GatewayDecisions> PollAsync(GatewayDecisionPoll poll, TimeSpan wait, CancellationToken ct)
    {
        // why: the NS answers after the wait at the latest; beyond that the connection is dead, not idle.
        var deadline = wait + TimeSpan.FromSeconds(15);
        var path = $"{GatewayManagementPaths.Decisions}?wait={(int)wait.TotalSeconds}";
        using var response = await PostAsync(path, poll, ProtocolJsonContext.Default.GatewayDecisionPoll, deadline, ct).ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(deadline, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        return await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.GatewayDecisions, linked.Token).ConfigureAwait(false) ?? new GatewayDecisions();
    }

    private Task<System.Net.Http.HttpResponseMessage> PostAsync<T>(string path, T body, JsonTypeInfo<T> typeInfo, TimeSpan timeout, CancellationToken ct) =>
        Tcm.Hosting.Registration.SiteServerHttp.PostAsync(_client, path, body, typeInfo, timeout, _time, ct);

    public void Dispose()
    {
        _client.Dispose();
        _handler.Dispose();
    }
}
