using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using HttpResponseMessage = System.Net.Http.HttpResponseMessage;

namespace Tcm.Testing;

/// <summary>The admin API and agent registration, as the tests call them through <see cref="Admin"/>.</summary>
public sealed partial class NotificationServerHost
{
    /// <summary>Turns "TCM communication" on or off.</summary>
    public async Task SetTcmEnabledAsync(bool enabled, CancellationToken cancellationToken = default)
    {
        using var response = await Admin.PutAsJsonAsync($"{TcmPaths.Admin}/settings", new ServerSettings { TcmEnabled = enabled }, ProtocolJsonContext.Default.ServerSettings, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>Pushes a task (<c>POST /tcm/admin/actions/task</c>).</summary>
    public Task<ActionCreated> PushTaskAsync(PushTaskRequest request, CancellationToken cancellationToken = default) =>
        AdminPostAsync("/actions/task", request, ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated, cancellationToken);

    /// <summary>Pushes the current policy to <paramref name="targets"/> (<c>POST /tcm/admin/actions/policy</c>).</summary>
    public Task<ActionCreated> PushPolicyAsync(Targets targets, CancellationToken cancellationToken = default) =>
        AdminPostAsync("/actions/policy", new PushPolicyRequest { Targets = targets }, ProtocolJsonContext.Default.PushPolicyRequest, ProtocolJsonContext.Default.ActionCreated, cancellationToken);

    /// <summary>Asks <paramref name="targets"/> for their inventory now (<c>POST /tcm/admin/actions/inventory</c>).</summary>
    public Task<ActionCreated> InventoryNowAsync(Targets targets, CancellationToken cancellationToken = default) =>
        AdminPostAsync("/actions/inventory", new InventoryNowRequest { Targets = targets }, ProtocolJsonContext.Default.InventoryNowRequest, ProtocolJsonContext.Default.ActionCreated, cancellationToken);

    /// <summary>Pushes a task through the Task Servers (<c>POST /tcm/admin/actions/ts-task</c>).</summary>
    public Task<ActionCreated> PushThroughTaskServersAsync(PushTaskRequest request, CancellationToken cancellationToken = default) =>
        AdminPostAsync("/actions/ts-task", request, ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated, cancellationToken);

    /// <summary>The Task Servers the server knows, with what each reported.</summary>
    public Task<IReadOnlyList<TaskServerInfoView>> ListTaskServersAsync(CancellationToken cancellationToken = default) =>
        AdminGetAsync("/task-servers", ProtocolJsonContext.Default.IReadOnlyListTaskServerInfoView, cancellationToken);

    /// <summary>An action and its targets.</summary>
    public Task<ActionStatus> GetActionAsync(string actionId, CancellationToken cancellationToken = default) =>
        AdminGetAsync($"/actions/{actionId}", ProtocolJsonContext.Default.ActionStatus, cancellationToken);

    /// <summary>What the server knows of an agent.</summary>
    public Task<AgentInfo> GetAgentAsync(string agentId, CancellationToken cancellationToken = default) =>
        AdminGetAsync($"/agents/{agentId}", ProtocolJsonContext.Default.AgentInfo, cancellationToken);

    /// <summary>One communication profile.</summary>
    public Task<CommunicationProfile> GetProfileAsync(string profileId, CancellationToken cancellationToken = default) =>
        AdminGetAsync($"/profiles/{profileId}", ProtocolJsonContext.Default.CommunicationProfile, cancellationToken);

    /// <summary>The built-in profile named Default.</summary>
    public async Task<CommunicationProfile> GetDefaultProfileAsync(CancellationToken cancellationToken = default)
    {
        var profiles = await AdminGetAsync("/profiles", ProtocolJsonContext.Default.IReadOnlyListCommunicationProfile, cancellationToken);
        return profiles.Single(p => p.Name == "Default");
    }

    /// <summary>Creates or replaces a communication profile.</summary>
    public async Task PutProfileAsync(CommunicationProfile profile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        using var response = await Admin.PutAsJsonAsync($"{TcmPaths.Admin}/profiles/{profile.Id}", profile, ProtocolJsonContext.Default.CommunicationProfile, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>Allows a site server (Task Server or gateway): returns its one-time registration token.</summary>
    public Task<SiteServerCreated> CreateSiteServerAsync(string name, SiteServerKind kind, CancellationToken cancellationToken = default) =>
        AdminPostAsync("/site-servers", new CreateSiteServerRequest { Name = name, Kind = kind }, ProtocolJsonContext.Default.CreateSiteServerRequest, ProtocolJsonContext.Default.SiteServerCreated, cancellationToken);

    /// <summary>Adds an admin key named <paramref name="name"/> with <paramref name="role"/> (<c>POST /tcm/admin/keys</c>); the answer holds the key.</summary>
    public Task<AdminKeyCreated> AddAdminKeyAsync(string name, AdminRole role, CancellationToken cancellationToken = default) =>
        AdminPostAsync("/keys", new CreateAdminKeyRequest { Name = name, Role = role }, ProtocolJsonContext.Default.CreateAdminKeyRequest, ProtocolJsonContext.Default.AdminKeyCreated, cancellationToken);

    /// <summary>The audit trail, newest first (<c>GET /tcm/admin/audit{query}</c>, e.g. <c>?kind=profile</c>).</summary>
    public Task<AuditPage> GetAuditAsync(string query = "", CancellationToken cancellationToken = default) =>
        AdminGetAsync("/audit" + query, ProtocolJsonContext.Default.AuditPage, cancellationToken);

    /// <summary><c>GET /tcm/admin{relativePath}</c>; anything but 200 fails with the status and the body.</summary>
    public async Task<T> AdminGetAsync<T>(string relativePath, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        using var response = await Admin.GetAsync(TcmPaths.Admin + relativePath, cancellationToken);
        await EnsureStatusAsync(response, HttpStatusCode.OK, cancellationToken);
        return (await response.Content.ReadFromJsonAsync(typeInfo, cancellationToken))!;
    }

    /// <summary><c>POST /tcm/admin{relativePath}</c>; a status that is not a success fails with the status and the body.</summary>
    public async Task<TResponse> AdminPostAsync<TRequest, TResponse>(
        string relativePath,
        TRequest body,
        JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResponse> responseType,
        CancellationToken cancellationToken = default)
    {
        using var response = await Admin.PostAsJsonAsync(TcmPaths.Admin + relativePath, body, requestType, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync(responseType, cancellationToken))!;
    }

    /// <summary>
    /// Registers a new agent the way a real one does (a fresh install package, its own key pair and a CSR) and returns the
    /// server's answer with the issued certificate joined to the key.
    /// </summary>
    public async Task<RegisteredAgent> RegisterAsync(
        string computerName = "PC-0001",
        IReadOnlyDictionary<string, string>? attributes = null,
        string? domain = "corp.example",
        CancellationToken cancellationToken = default)
    {
        var package = await Info.CreateInstallPackageAsync(ct: cancellationToken);
        var (key, csr) = TestCertificates.CreateSigningRequest(computerName);
        using (key)
        {
            using var client = CreateClient();
            using var response = await client.PostAsJsonAsync(TcmPaths.Register, new RegisterRequest
            {
                RegistrationToken = package.RegistrationToken,
                ComputerName = computerName,
                Domain = domain,
                OsName = "Windows 11",
                CertificateSigningRequestPem = csr,
                Attributes = attributes,
            }, ProtocolJsonContext.Default.RegisterRequest, cancellationToken);
            await EnsureStatusAsync(response, HttpStatusCode.OK, cancellationToken);
            var registered = (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.RegisterResponse, cancellationToken))!;
            return new RegisteredAgent(registered, TestCertificates.CombineWithKey(registered.ClientCertificatePem, key));
        }
    }

    private static async Task EnsureStatusAsync(HttpResponseMessage response, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        if (response.StatusCode != expected)
        {
            throw new HttpRequestException(
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath} answered {(int)response.StatusCode}, expected {(int)expected}: {await response.Content.ReadAsStringAsync(cancellationToken)}",
                null,
                response.StatusCode);
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            await EnsureStatusAsync(response, HttpStatusCode.OK, cancellationToken);
        }
    }
}

/// <summary>An agent registered over HTTP: the server's answer and its client certificate with the private key.</summary>
public sealed record RegisteredAgent(RegisterResponse Registration, System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate)
{
    /// <summary>The agent id the server gave.</summary>
    public string Id => Registration.AgentId;
}
