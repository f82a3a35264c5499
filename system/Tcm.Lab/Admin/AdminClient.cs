using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization.Metadata;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Lab.Admin;

/// <summary>The lab's client of the Notification Server admin API (simulator, features, load tests): what an administrator would click, as typed calls.</summary>
public sealed class AdminClient : IDisposable
{
    private readonly HttpClient _http;

    public AdminClient(Uri baseAddress, string adminKey, X509Certificate2? trustedCa)
        : this(baseAddress, adminKey, trustedCa, wrap: null)
    {
    }

    /// <summary>A client whose requests pass through the handler <paramref name="wrap"/> puts in front of the sockets (e.g. one that picks a live node).</summary>
    public AdminClient(Uri baseAddress, string adminKey, X509Certificate2? trustedCa, Func<HttpMessageHandler, HttpMessageHandler>? wrap)
    {
        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) };
        if (trustedCa is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = TrustedBy(trustedCa);
        }

        _http = new HttpClient(wrap is null ? handler : wrap(handler)) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        _http.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, adminKey);
    }

    /// <summary>
    /// Accepts a server certificate that chains to <paramref name="ca"/> (no revocation check; the host name is not checked:
    /// lab and load-test servers are dialled on 127.0.0.1 under names of their own).
    /// </summary>
    public static System.Net.Security.RemoteCertificateValidationCallback TrustedBy(X509Certificate2 ca) =>
        (_, certificate, _, _) => certificate is not null && ServerTrust.ChainsTo(certificate, ca);

    public Task SetTcmAsync(bool enabled, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, "/tcm/admin/settings", JsonContent.Create(new ServerSettings { TcmEnabled = enabled }, ProtocolJsonContext.Default.ServerSettings), ct);

    public Task<IReadOnlyList<CommunicationProfile>> GetProfilesAsync(CancellationToken ct) =>
        GetAsync("/tcm/admin/profiles", ProtocolJsonContext.Default.IReadOnlyListCommunicationProfile, ct);

    public Task<CommunicationProfile> SaveProfileAsync(CommunicationProfile profile, CancellationToken ct) =>
        SaveAsync("/tcm/admin/profiles", profile.Id, profile, ProtocolJsonContext.Default.CommunicationProfile, ct);

    public Task<IReadOnlyList<TargetedAgentSettings>> GetAgentSettingsAsync(CancellationToken ct) =>
        GetAsync("/tcm/admin/agent-settings", ProtocolJsonContext.Default.IReadOnlyListTargetedAgentSettings, ct);

    public Task<TargetedAgentSettings> SaveAgentSettingsAsync(TargetedAgentSettings settings, CancellationToken ct) =>
        SaveAsync("/tcm/admin/agent-settings", settings.Id, settings, ProtocolJsonContext.Default.TargetedAgentSettings, ct);

    public Task<InstallPackage> CreatePackageAsync(string profileId, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, $"/tcm/admin/profiles/{profileId}/package", null, ProtocolJsonContext.Default.InstallPackage, ct);

    public Task<ActionCreated> PushTaskAsync(PushTaskRequest request, CancellationToken ct) =>
        PostActionAsync("task", JsonContent.Create(request, ProtocolJsonContext.Default.PushTaskRequest), ct);

    public Task<ActionCreated> PushPolicyAsync(PushPolicyRequest request, CancellationToken ct) =>
        PostActionAsync("policy", JsonContent.Create(request, ProtocolJsonContext.Default.PushPolicyRequest), ct);

    public Task<ActionCreated> InventoryNowAsync(InventoryNowRequest request, CancellationToken ct) =>
        PostActionAsync("inventory", JsonContent.Create(request, ProtocolJsonContext.Default.InventoryNowRequest), ct);

    public Task<ActionStatus> GetActionAsync(string actionId, CancellationToken ct) =>
        GetAsync($"/tcm/admin/actions/{actionId}", ProtocolJsonContext.Default.ActionStatus, ct);

    public Task TerminateAsync(string agentId, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, $"/tcm/admin/agents/{agentId}/terminate", null, ct);

    public Task<FleetSummary> GetFleetAsync(CancellationToken ct) =>
        GetAsync("/tcm/admin/fleet", ProtocolJsonContext.Default.FleetSummary, ct);

    public Task<IReadOnlyDictionary<string, long>> GetMetricsAsync(CancellationToken ct) =>
        GetAsync("/tcm/admin/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64, ct);

    public Task<SiteServerCreated> CreateSiteServerAsync(CreateSiteServerRequest request, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "/tcm/admin/site-servers", JsonContent.Create(request, ProtocolJsonContext.Default.CreateSiteServerRequest), ProtocolJsonContext.Default.SiteServerCreated, ct);

    public Task<IReadOnlyList<SiteServerInfo>> GetSiteServersAsync(CancellationToken ct) =>
        GetAsync("/tcm/admin/site-servers", ProtocolJsonContext.Default.IReadOnlyListSiteServerInfo, ct);

    /// <summary>Pushes a task through the Task Servers (the Client Task Agent's connection).</summary>
    public Task<ActionCreated> PushTaskThroughTaskServersAsync(PushTaskRequest request, CancellationToken ct) =>
        PostActionAsync("ts-task", JsonContent.Create(request, ProtocolJsonContext.Default.PushTaskRequest), ct);

    public void Dispose() => _http.Dispose();

    private Task<ActionCreated> PostActionAsync(string kind, HttpContent content, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, $"/tcm/admin/actions/{kind}", content, ProtocolJsonContext.Default.ActionCreated, ct);

    private Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, type, ct);

    /// <summary>Creates <paramref name="item"/> in <paramref name="collection"/> when it has no id yet, else replaces it; returns it as stored.</summary>
    private Task<T> SaveAsync<T>(string collection, string? id, T item, JsonTypeInfo<T> type, CancellationToken ct)
    {
        var creating = string.IsNullOrEmpty(id);
        return SendAsync(creating ? HttpMethod.Post : HttpMethod.Put, creating ? collection : $"{collection}/{id}", JsonContent.Create(item, type), type, ct);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> answer, CancellationToken ct)
    {
        var response = await SendAsync(method, path, content, ct);
        return (await response.Content.ReadFromJsonAsync(answer, ct))!;
    }

    private async Task<System.Net.Http.HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new System.Net.Http.HttpRequestMessage(method, path) { Content = content };
        var response = await _http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            throw new AdminApiException($"{method} {path} answered {(int)response.StatusCode} {response.ReasonPhrase}: {body}");
        }

        return response;
    }
}

/// <summary>The admin API refused or failed a call; the message carries the server's answer.</summary>
public sealed class AdminApiException(string message) : Exception(message);
