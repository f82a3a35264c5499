using System.Net.Http.Headers;

namespace Tcm.NotificationServer.Tests.Functional;

public sealed class AgentEndpointTests
{
    [Fact]
    public async Task Register_ThenPolicy_HasEtag_AndIfNoneMatchGives304()
    {
        await using var server = await NotificationServerHost.StartAsync();
        using var agent = await server.RegisterAgentAsync("PC-ETAG");

        agent.Id.Should().MatchRegex("^[0-9a-f]{32}$");
        agent.Certificate.Subject.Should().Be($"CN={agent.Id}");
        agent.Registration.CaCertificatePem.Should().Be(server.Info.CaCertificatePem);
        agent.Registration.Policy.TcmEnabled.Should().BeFalse("TCM communication is off by default");
        agent.Registration.Policy.Communication.ProfileName.Should().Be("Default");

        var response = await agent.Http.GetAsync(TcmPaths.Policy);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var policy = await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.PolicyDocument);
        response.Headers.ETag!.Tag.Should().Be($"\"{policy!.Etag}\"");
        policy.Etag.Should().Be(agent.Registration.Policy.Etag);

        using var conditional = new System.Net.Http.HttpRequestMessage(HttpMethod.Get, TcmPaths.Policy);
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{policy.Etag}\""));
        var notModified = await agent.Http.SendAsync(conditional);
        notModified.StatusCode.Should().Be(HttpStatusCode.NotModified);
    }

    [Fact]
    public async Task Register_WithWrongToken_Is401BadRegistrationToken()
    {
        await using var server = await NotificationServerHost.StartAsync();
        using var client = new HttpClient(server.CreateHandler(null)) { BaseAddress = new Uri(server.Info.BaseUrl) };
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var response = await client.PostAsJsonAsync(TcmPaths.Register, new RegisterRequest
        {
            RegistrationToken = "not-a-token",
            ComputerName = "PC-1",
            CertificateSigningRequestPem = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=x", key, HashAlgorithmName.SHA256).CreateSigningRequestPem(),
        }, ProtocolJsonContext.Default.RegisterRequest);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.GetValues("X-Tcm-Refusal").Should().Equal("bad-registration-token");
        (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Code.Should().Be("bad-registration-token");
    }

    [Fact]
    public async Task Register_WithBadCsr_Is400NamingTheField()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var package = await server.Info.CreateInstallPackageAsync();
        using var client = new HttpClient(server.CreateHandler(null)) { BaseAddress = new Uri(server.Info.BaseUrl) };
        var response = await client.PostAsJsonAsync(TcmPaths.Register, new RegisterRequest
        {
            RegistrationToken = package.RegistrationToken,
            ComputerName = "PC-1",
            CertificateSigningRequestPem = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----",
        }, ProtocolJsonContext.Default.RegisterRequest);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().StartWith("certificateSigningRequestPem:");
    }

    [Fact]
    public async Task AgentEndpoint_WithoutCertificate_Is401_AndUnknownAgent_Is403()
    {
        await using var server = await NotificationServerHost.StartAsync();
        using var anonymous = new HttpClient(server.CreateHandler(null)) { BaseAddress = new Uri(server.Info.BaseUrl) };
        var response = await anonymous.GetAsync(TcmPaths.Policy);
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.GetValues("X-Tcm-Refusal").Should().Equal(CloseReasons.BadCertificate);

        using var unknown = server.CreateUnknownAgent();
        var refused = await unknown.Http.GetAsync(TcmPaths.Policy);
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Code.Should().Be(CloseReasons.UnknownAgent);
    }

    [Fact]
    public async Task Events_WithNetworkStatus_AreShownByTheAdminApi()
    {
        await using var server = await NotificationServerHost.StartAsync();
        using var agent = await server.RegisterAgentAsync("PC-NET");
        var status = new NetworkStatus { ServerAddress = "ns:4443", Mode = ConnectionMode.Cem, Availability = "Available via internet gateway", Transport = TransportKind.Http };
        var posted = await agent.Http.PostAsJsonAsync(TcmPaths.Events, new EventBatch
        {
            Events = [new AgentEvent { Type = "started", At = DateTimeOffset.UtcNow }],
            NetworkStatus = status,
        }, ProtocolJsonContext.Default.EventBatch);
        posted.StatusCode.Should().Be(HttpStatusCode.NoContent);

        var shown = await server.AdminGetAsync($"/agents/{agent.Id}/network-status", ProtocolJsonContext.Default.NetworkStatus);
        shown.Should().BeEquivalentTo(status);
        var info = await server.AdminGetAsync($"/agents/{agent.Id}", ProtocolJsonContext.Default.AgentInfo);
        info.Mode.Should().Be(ConnectionMode.Cem);
        info.LastContact.Should().NotBeNull();
    }

    [Fact]
    public async Task Result_PostedTwiceOverHttp_IsStoredOnce()
    {
        await using var server = await NotificationServerHost.StartAsync();
        using var agent = await server.RegisterAgentAsync("PC-RES");
        var created = await server.AdminPostAsync("/actions/task",
            new PushTaskRequest { Command = "echo", Targets = new Targets { Agents = [agent.Id] } },
            ProtocolJsonContext.Default.PushTaskRequest, ProtocolJsonContext.Default.ActionCreated);
        var result = new TaskResultMessage { TaskId = created.ActionId, IdempotencyKey = $"{agent.Id}:{created.ActionId}", State = TaskState.Succeeded, Output = "hi" };
        var body = MessageCodec.Encode(result);

        var first = await agent.Http.PostAsync(TcmPaths.TaskResult, new ByteArrayContent(body));
        var second = await agent.Http.PostAsync(TcmPaths.TaskResult, new ByteArrayContent(body));

        (await first.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ResultReceipt))!.Duplicate.Should().BeFalse();
        (await second.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ResultReceipt))!.Duplicate.Should().BeTrue();
        var action = await server.AdminGetAsync($"/actions/{created.ActionId}", ProtocolJsonContext.Default.ActionStatus);
        action.Targets.Should().ContainSingle().Which.Should().Match<ActionTargetStatus>(t => t.State == TaskState.Succeeded && t.ResultCount == 1 && t.Output == "hi");
    }

    [Fact]
    public async Task Healthz_IsOk_WithoutKey()
    {
        await using var server = await NotificationServerHost.StartAsync();
        using var anonymous = server.CreateAdminClient(sendKey: false);
        (await anonymous.GetAsync(TcmPaths.Health)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Restart_OnTheSameDataFolder_KeepsCaAdminKeyAndAgents()
    {
        using var folder = new TemporaryFolder("ns-restart");
        string caPem, adminKey;
        TestAgent agent;
        Tcm.Lab.Storage.StoreKind store;
        await using (var first = await NotificationServerHost.StartAsync(dataDirectory: folder.Path))
        {
            store = first.Store;
            caPem = first.Info.CaCertificatePem;
            adminKey = first.Info.AdminApiKey;
            agent = await first.RegisterAgentAsync("PC-KEEP");
        }

        // why: on PostgreSQL the agents are in the folder's database (kept until the folder goes), which the second start finds.
        File.Exists(folder.File("tcm.db")).Should().Be(store == Tcm.Lab.Storage.StoreKind.Sqlite);
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(folder.File("ca.pfx")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await using var second = await NotificationServerHost.StartAsync(dataDirectory: folder.Path);
        second.Info.CaCertificatePem.Should().Be(caPem);
        second.Info.AdminApiKey.Should().Be(adminKey);
        using var again = new HttpClient(second.CreateHandler(agent.Certificate)) { BaseAddress = new Uri(second.Info.BaseUrl) };
        (await again.GetAsync(TcmPaths.Policy)).StatusCode.Should().Be(HttpStatusCode.OK);
        agent.Dispose();
    }
}
