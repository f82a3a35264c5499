namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>
/// The audit trail on a real Notification Server: each kind of change an administrator makes is recorded with who (the key's
/// name), when, what and the values before and after; it is read with filters and pages, survives a restart, and nothing an
/// agent does writes to it.
/// </summary>
public sealed class AuditTrailTests
{
    [Fact]
    public async Task Settings_profiles_and_targeted_settings_are_recorded_with_their_values_before_and_after()
    {
        await using var server = await NotificationServerHost.StartAsync();
        await server.SetTcmEnabledAsync(true);
        var office = new CommunicationProfile { Id = "office", Name = "Office", Priority = 10, ServerHosts = ["ns1.corp:4443"] };
        (await server.Admin.PostAsJsonAsync("/tcm/admin/profiles", office, ProtocolJsonContext.Default.CommunicationProfile)).StatusCode.Should().Be(HttpStatusCode.Created);
        await server.PutProfileAsync(office with { Priority = 20 });
        (await server.Admin.DeleteAsync("/tcm/admin/profiles/office")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var vpn = new TargetedAgentSettings { Id = "vpn", Name = "VPN", Settings = new AgentSettings { PreferCemIfVpn = true } };
        (await server.Admin.PostAsJsonAsync("/tcm/admin/agent-settings", vpn, ProtocolJsonContext.Default.TargetedAgentSettings)).StatusCode.Should().Be(HttpStatusCode.Created);

        var settings = (await server.GetAuditAsync("?kind=settings&who=admin.key")).Items.Should().ContainSingle().Subject;
        settings.Who.Should().Be("admin.key");
        settings.Role.Should().Be(AdminRole.Administrator);
        settings.Operation.Should().Be("PUT /settings");
        settings.Status.Should().Be(200);
        settings.Before!.Value.GetProperty("tcmEnabled").GetBoolean().Should().BeFalse();
        settings.After!.Value.GetProperty("tcmEnabled").GetBoolean().Should().BeTrue();

        var profile = (await server.GetAuditAsync("?kind=profile")).Items;
        profile.Select(e => e.Operation).Should().Equal("DELETE /profiles/{id}", "PUT /profiles/{id}", "POST /profiles");
        profile.Should().OnlyContain(e => e.Target == "office");
        profile[2].Before.Should().BeNull("nothing was there before the create");
        profile[2].After!.Value.GetProperty("priority").GetInt32().Should().Be(10);
        profile[1].Before!.Value.GetProperty("priority").GetInt32().Should().Be(10);
        profile[1].After!.Value.GetProperty("priority").GetInt32().Should().Be(20);
        profile[0].Before!.Value.GetProperty("priority").GetInt32().Should().Be(20);
        profile[0].After.Should().BeNull("nothing is left after a delete");

        var selection = new TaskServerSelectionSettings { Selection = TaskServerSelection.OrderedList };
        (await server.Admin.PutAsJsonAsync("/tcm/admin/task-servers/selection", selection, ProtocolJsonContext.Default.TaskServerSelectionSettings)).EnsureSuccessStatusCode();
        var chosen = (await server.GetAuditAsync("?kind=settings")).Items[0];
        chosen.Target.Should().Be("task-servers/selection");
        chosen.Before!.Value.GetProperty("selection").GetString().Should().NotBe(chosen.After!.Value.GetProperty("selection").GetString());

        var targeted = (await server.GetAuditAsync("?kind=agent-settings")).Items.Should().ContainSingle().Subject;
        targeted.After!.Value.GetProperty("settings").GetProperty("preferCemIfVpn").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task A_profiles_proxy_password_never_reaches_the_trail()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var proxied = new CommunicationProfile
        {
            Id = "proxied", Name = "Proxied",
            Proxy = new ProxySettings { Mode = ProxyMode.Explicit, Address = "http://proxy.corp:3128", UserName = "tcm", Password = "s3cret-proxy-password" },
        };
        (await server.Admin.PostAsJsonAsync("/tcm/admin/profiles", proxied, ProtocolJsonContext.Default.CommunicationProfile)).StatusCode.Should().Be(HttpStatusCode.Created);

        var entry = (await server.GetAuditAsync("?kind=profile")).Items.Should().ContainSingle().Subject;
        entry.After!.Value.GetRawText().Should().NotContain("s3cret-proxy-password").And.Contain("passwordStored");
    }

    [Fact]
    public async Task Actions_terminate_install_packages_site_servers_and_keys_are_recorded_under_their_kinds()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var server = connected.Server;
        var operatorKey = await server.AddAdminKeyAsync("night-shift", AdminRole.Operator);
        using var night = server.CreateAdminClient(operatorKey.Key);

        var task = await night.PostAsJsonAsync("/tcm/admin/actions/task",
            new PushTaskRequest { Command = "echo", Parameters = new Dictionary<string, string> { ["text"] = "hi" }, Targets = Targets.Everyone }, ProtocolJsonContext.Default.PushTaskRequest);
        task.StatusCode.Should().Be(HttpStatusCode.Created);
        var actionId = (await task.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ActionCreated))!.ActionId;
        (await night.PostAsync($"/tcm/admin/agents/{connected.Agent.Id}/terminate?reconnectAfterSeconds=7", null)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await server.Admin.PostAsync("/tcm/admin/profiles/default/package", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await server.CreateSiteServerAsync("ts1", SiteServerKind.TaskServer);
        (await server.Admin.DeleteAsync("/tcm/admin/keys/night-shift")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var all = (await server.GetAuditAsync()).Items;
        all.Select(e => (e.Kind, e.Who)).Should().Equal(
            ("key", "admin.key"), ("site-server", "admin.key"), ("install-package", "admin.key"), ("terminate", "night-shift"), ("action", "night-shift"), ("key", "admin.key"));

        var action = all.Single(e => e.Kind == "action");
        action.Role.Should().Be(AdminRole.Operator);
        action.Target.Should().Be(actionId);
        action.Status.Should().Be(201);
        action.After!.Value.GetProperty("command").GetString().Should().Be("echo");

        var terminate = all.Single(e => e.Kind == "terminate");
        terminate.Target.Should().Be(connected.Agent.Id);
        terminate.After!.Value.GetProperty("reconnectAfterSeconds").GetInt32().Should().Be(7);

        var package = all.Single(e => e.Kind == "install-package");
        package.Target.Should().Be("default");
        package.After!.Value.GetRawText().Should().NotContain("registrationToken", "the package's token must not be kept in the trail");

        var site = all.Single(e => e.Kind == "site-server");
        site.Target.Should().Be("ts1");
        site.After!.Value.GetRawText().Should().NotContainAny("token", "Token");

        var (added, revoked) = (all[^1], all[0]);
        added.Operation.Should().Be("POST /keys");
        added.After!.Value.GetProperty("role").GetString().Should().Be("operator");
        added.After!.Value.GetRawText().Should().NotContain(operatorKey.Key);
        revoked.Operation.Should().Be("DELETE /keys/{idOrName}");
        revoked.Before!.Value.TryGetProperty("revokedAt", out _).Should().BeFalse();
        revoked.After!.Value.GetProperty("revokedBy").GetString().Should().Be("admin.key");
    }

    [Fact]
    public async Task The_trail_is_filtered_by_time_who_and_kind_paged_newest_first_and_refuses_a_bad_filter()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var viewer = await server.AddAdminKeyAsync("auditor", AdminRole.Viewer);
        for (var i = 0; i < 5; i++)
        {
            await server.SetTcmEnabledAsync(i % 2 == 0);
        }

        using var auditor = server.CreateAdminClient(viewer.Key);
        var settings = (await auditor.GetFromJsonAsync("/tcm/admin/audit?kind=settings", ProtocolJsonContext.Default.AuditPage))!.Items;
        settings.Should().HaveCount(5).And.BeInDescendingOrder(e => e.Seq);
        var page = (await auditor.GetFromJsonAsync("/tcm/admin/audit?kind=settings&skip=1&take=2", ProtocolJsonContext.Default.AuditPage))!;
        page.Total.Should().Be(5);
        page.Items.Select(e => e.Seq).Should().Equal(settings[1].Seq, settings[2].Seq);

        // why a millisecond past the second newest: requests in a row can share a millisecond, and [from, to) must hold the older ones.
        var (from, to) = (settings[3].At, settings[1].At.AddMilliseconds(1));
        var window = await server.GetAuditAsync($"?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}");
        window.Items.Select(e => e.Seq).Should().Equal(settings.Where(e => e.At >= from && e.At < to).Select(e => e.Seq)).And.NotBeEmpty();
        (await server.GetAuditAsync("?who=AUDITOR")).Total.Should().Be(0, "the auditor only read");
        (await server.GetAuditAsync("?who=admin.key")).Total.Should().Be(6);

        var bad = await server.Admin.GetAsync("/tcm/admin/audit?from=yesterday");
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().StartWith("from:");
        (await server.Admin.GetAsync("/tcm/admin/audit?take=501")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_trail_and_the_keys_survive_a_restart()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var ops = await server.AddAdminKeyAsync("ops", AdminRole.Operator);
        await server.SetTcmEnabledAsync(true);

        await server.StopAsync();
        await server.StartAsync();

        (await server.GetAuditAsync()).Items.Select(e => e.Kind).Should().Equal("settings", "key");
        using var client = server.CreateAdminClient(ops.Key);
        (await client.GetFromJsonAsync("/tcm/admin/whoami", ProtocolJsonContext.Default.AdminIdentity)).Should().Be(new AdminIdentity("ops", AdminRole.Operator));
    }

    [Fact]
    public async Task Nothing_an_agent_does_is_written_to_the_trail_and_the_trail_cannot_be_written_through_the_api()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var server = connected.Server;
        var before = (await server.GetAuditAsync()).Total;

        // An agent registers, asks for its policy, polls for tasks and posts a result over HTTP; another acknowledges over its channel.
        using var second = await server.RegisterAgentAsync("PC-0002");
        (await second.Http.GetAsync(TcmPaths.Policy)).StatusCode.Should().Be(HttpStatusCode.OK);
        var created = await server.PushTaskAsync(new PushTaskRequest { Command = "echo", Targets = new Targets { Agents = [second.Id, connected.Agent.Id] } });
        var push = await connected.Channel.ReceiveAsync<TaskPushMessage>();
        await connected.Channel.SendAsync(new AckMessage { UpToSeq = push.Seq });
        (await second.Http.GetFromJsonAsync($"{TcmPaths.Tasks}?after=0", ProtocolJsonContext.Default.PendingPushes))!.Items.Should().ContainSingle();
        var result = new TaskResultMessage { TaskId = created.ActionId, IdempotencyKey = $"{second.Id}:{created.ActionId}", State = TaskState.Succeeded, ExitCode = 0, Output = "hi" };
        var posted = await second.Http.PostAsync(TcmPaths.TaskResult, new ByteArrayContent(MessageCodec.Encode(result)) { Headers = { ContentType = new("application/json") } });
        posted.EnsureSuccessStatusCode();

        (await server.GetAuditAsync()).Items.Select(e => e.Kind).Should().Equal(["action"], "the administrator's push is the one change since; the agents' calls wrote nothing");
        (await server.GetAuditAsync()).Total.Should().Be(before + 1);
        (await server.Admin.PostAsync("/tcm/admin/audit", JsonContent.Create(new { who = "agent" }))).StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task A_refused_or_failed_change_is_not_recorded()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var viewer = await server.AddAdminKeyAsync("watcher", AdminRole.Viewer);
        using var watcher = server.CreateAdminClient(viewer.Key);
        (await watcher.PutAsJsonAsync("/tcm/admin/settings", new ServerSettings { TcmEnabled = true }, ProtocolJsonContext.Default.ServerSettings)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await server.Admin.DeleteAsync("/tcm/admin/profiles/nope")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        (await server.GetAuditAsync()).Items.Should().ContainSingle().Which.Kind.Should().Be("key");
    }
}
