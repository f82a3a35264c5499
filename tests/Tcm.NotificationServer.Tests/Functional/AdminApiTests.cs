using System.Net.Http.Headers;

namespace Tcm.NotificationServer.Tests.Functional;

public sealed class AdminApiTests
{
    [Fact]
    public async Task AdminApi_WithoutOrWithWrongKey_Is401_WithBearer_IsOk()
    {
        await using var server = await NotificationServerHost.StartAsync();
        using var anonymous = server.CreateAdminClient(sendKey: false);
        using var wrong = server.CreateAdminClient(key: "wrong-key-wrong-key");

        foreach (var path in new[] { "/tcm/admin/settings", "/tcm/admin/agents", "/openapi/v1.json" })
        {
            var response = await anonymous.GetAsync(path);
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, path);
            (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Code.Should().Be("admin-key-required");
            (await wrong.GetAsync(path)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, path);
        }

        using var bearer = server.CreateAdminClient(sendKey: false);
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.Info.AdminApiKey);
        (await bearer.GetFromJsonAsync("/tcm/admin/settings", ProtocolJsonContext.Default.ServerSettings))!.TcmEnabled.Should().BeFalse();
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheAdminApi()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var document = await server.Admin.GetStringAsync("/openapi/v1.json");
        document.Should().Contain("/tcm/admin/actions/task").And.Contain("PushTask").And.Contain("/tcm/admin/profiles/{id}");
        document.Should().NotContain("/tcm/agent/channel");
    }

    [Fact]
    public async Task Profiles_Crud_WithValidationNamingTheField()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var profiles = await server.AdminGetAsync("/profiles", ProtocolJsonContext.Default.IReadOnlyListCommunicationProfile);
        profiles.Should().ContainSingle(p => p.Id == "default" && p.Priority == 1000 && p.PersistentConnection && p.Targets.All);

        var bad = await server.Admin.PostAsJsonAsync("/tcm/admin/profiles", new CommunicationProfile { Name = "x", ServerHosts = ["no-port"] }, ProtocolJsonContext.Default.CommunicationProfile);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().StartWith("serverHosts[0]:");

        var missingName = await server.Admin.PostAsync("/tcm/admin/profiles", new StringContent("{\"priority\": 5}", System.Text.Encoding.UTF8, "application/json"));
        missingName.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await missingName.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().Contain("name");

        var created = await server.Admin.PostAsJsonAsync("/tcm/admin/profiles", new CommunicationProfile { Id = "office", Name = "Office", Priority = 10, ServerHosts = ["ns1.corp:4443"] }, ProtocolJsonContext.Default.CommunicationProfile);
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        created.Headers.Location!.ToString().Should().Be("/tcm/admin/profiles/office");
        var package = await server.Admin.PostAsync("/tcm/admin/profiles/office/package", null);
        var install = (await package.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.InstallPackage))!;
        install.ProfileName.Should().Be("Office");
        install.CaCertificatePem.Should().Be(server.Info.CaCertificatePem);
        install.RegistrationToken.Should().NotBeNullOrEmpty();

        using var agent = await server.RegisterAgentAsync();
        agent.Registration.Policy.Communication.ProfileId.Should().Be("office", "priority 10 comes before the Default profile's 1000");
        agent.Registration.Policy.Communication.ServerHosts.Should().Equal("ns1.corp:4443");

        (await server.Admin.DeleteAsync("/tcm/admin/profiles/office")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await server.Admin.GetAsync("/tcm/admin/profiles/office")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ProfileProxy_PasswordNeverReturned_KeptWhenLeftOut_AndGivenToAgentsAndPackages()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var proxy = new ProxySettings { Mode = ProxyMode.Explicit, Address = "http://proxy.corp:3128", UserName = "agent", Password = "s3cret", Bypass = ["*.corp"], AllowDirect = true };
        var bad = await server.Admin.PostAsJsonAsync("/tcm/admin/profiles", new CommunicationProfile { Name = "x", Proxy = proxy with { Address = "https://proxy.corp:3128" } }, ProtocolJsonContext.Default.CommunicationProfile);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().StartWith("proxy.address:");

        var created = await server.Admin.PostAsJsonAsync("/tcm/admin/profiles", new CommunicationProfile { Id = "proxied", Name = "Proxied", Priority = 10, Proxy = proxy }, ProtocolJsonContext.Default.CommunicationProfile);
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        (await created.Content.ReadAsStringAsync()).Should().NotContain("s3cret");
        var shown = await server.AdminGetAsync("/profiles/proxied", ProtocolJsonContext.Default.CommunicationProfile);
        shown.Proxy.Should().Be(proxy with { Password = null, PasswordStored = true });
        (await server.Admin.GetStringAsync("/tcm/admin/profiles")).Should().NotContain("s3cret");

        // Saved again as an answer showed it (no password): the stored password stays.
        (await server.Admin.PutAsJsonAsync("/tcm/admin/profiles/proxied", shown with { Priority = 9 }, ProtocolJsonContext.Default.CommunicationProfile)).EnsureSuccessStatusCode();
        using var agent = await server.RegisterAgentAsync();
        agent.Registration.Policy.Communication.Proxy.Should().Be(proxy, "the agent needs the password to pass the proxy");
        var package = (await (await server.Admin.PostAsync("/tcm/admin/profiles/proxied/package", null)).Content.ReadFromJsonAsync(ProtocolJsonContext.Default.InstallPackage))!;
        package.Proxy.Should().Be(proxy, "an agent that can only leave through the proxy registers through it");

        // Another user name without a password drops the old password.
        (await server.Admin.PutAsJsonAsync("/tcm/admin/profiles/proxied", shown with { Proxy = shown.Proxy! with { UserName = "other" } }, ProtocolJsonContext.Default.CommunicationProfile)).EnsureSuccessStatusCode();
        (await server.AdminGetAsync("/profiles/proxied", ProtocolJsonContext.Default.CommunicationProfile)).Proxy!.PasswordStored.Should().BeFalse();
    }

    [Fact]
    public async Task Agents_ArePaged_Searched_AndCountedInTheFleet()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        var agents = new List<TestAgent>();
        for (var i = 0; i < 5; i++)
        {
            agents.Add(await server.RegisterAgentAsync($"PC-{i:0000}"));
        }

        var (channel, _) = await agents[0].ConnectAsync();
        await using var _ = channel;

        var page = await server.AdminGetAsync("/agents?skip=1&take=2", ProtocolJsonContext.Default.AgentPage);
        page.Total.Should().Be(5);
        page.Items.Select(a => a.ComputerName).Should().Equal("PC-0001", "PC-0002");
        (await server.AdminGetAsync("/agents?search=pc-0003", ProtocolJsonContext.Default.AgentPage)).Items.Should().ContainSingle();
        (await server.AdminGetAsync("/agents?connected=true", ProtocolJsonContext.Default.AgentPage)).Items.Should().ContainSingle().Which.Id.Should().Be(agents[0].Id);
        var fleet = await server.AdminGetAsync("/fleet", ProtocolJsonContext.Default.FleetSummary);
        fleet.Total.Should().Be(5);
        fleet.Persistent.Should().Be(1);

        var badTake = await server.Admin.GetAsync("/tcm/admin/agents?take=0");
        badTake.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await badTake.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().StartWith("take:");
        (await server.Admin.GetAsync("/tcm/admin/agents/nope")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        agents.ForEach(a => a.Dispose());
    }

    [Theory]
    [InlineData("/tcm/admin/actions/task")]
    [InlineData("/tcm/admin/actions/ts-task")]
    public async Task PushTask_WithoutCommand_Is400NamingTheField(string path)
    {
        await using var server = await NotificationServerHost.StartAsync();
        var response = await server.Admin.PostAsJsonAsync(path, new PushTaskRequest { Command = " ", Targets = Targets.Everyone }, ProtocolJsonContext.Default.PushTaskRequest);
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().StartWith("command:");
    }

    [Fact]
    public async Task Saving_a_profile_whose_gateway_nobody_registered_says_why_in_a_header_and_in_its_checks()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var profile = new CommunicationProfile { Id = "internet", Name = "Internet", Cem = new CemSettings { GatewayAddress = "gw.example.com:443" } };

        using var saved = await server.Admin.PutAsJsonAsync("/tcm/admin/profiles/internet", profile, ProtocolJsonContext.Default.CommunicationProfile);
        saved.StatusCode.Should().Be(HttpStatusCode.OK, "a profile with problems is still saved");
        saved.Headers.GetValues("X-Tcm-Problem").Should().ContainSingle().Which.Should().StartWith("cem.gatewayAddress: no CEM gateway has registered");

        var checks = await server.AdminGetAsync("/profiles/internet/checks", ProtocolJsonContext.Default.ProfileChecks);
        checks.ProfileId.Should().Be("internet");
        checks.Problems.Should().ContainSingle().Which.Field.Should().Be("cem.gatewayAddress");

        using var office = await server.Admin.PutAsJsonAsync(
            "/tcm/admin/profiles/office", new CommunicationProfile { Name = "Office" }, ProtocolJsonContext.Default.CommunicationProfile);
        office.Headers.Contains("X-Tcm-Problem").Should().BeFalse("nothing in it names a server that is not there");
        (await server.Admin.GetAsync("/tcm/admin/profiles/nope/checks")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
