namespace Tcm.Console.Tests;

/// <summary>
/// The audit page and the console of each role in Chromium against a real Notification Server. Screenshots
/// <c>audit-01-trail.png</c>, <c>audit-02-profile-changes.png</c>, <c>viewer-01-fleet.png</c>, <c>viewer-02-settings.png</c>,
/// <c>viewer-03-actions.png</c>, <c>viewer-04-profile.png</c> and <c>operator-01-actions.png</c> go to <see cref="ConsoleBrowser.ScreenshotDirectory"/>.
/// </summary>
public sealed class AuditAndRolesBrowserTests(ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task Audit_page_shows_who_changed_what_with_the_values_before_and_after_and_filters_by_kind()
    {
        ChromiumFactAttribute.EnsureInstalled();
        await using var server = await NotificationServerHost.StartAsync(output, configure: o => o.ServerName = "NS-CONSOLE-TEST");
        var nightShift = await server.AddAdminKeyAsync("night-shift", AdminRole.Operator);
        await server.SetTcmEnabledAsync(true);
        var office = new CommunicationProfile { Id = "office", Name = "Office", Priority = 10, ServerHosts = ["ns1.corp:4443"] };
        (await server.Admin.PostAsJsonAsync("/tcm/admin/profiles", office, ProtocolJsonContext.Default.CommunicationProfile)).EnsureSuccessStatusCode();
        await server.PutProfileAsync(office with { Priority = 20, PersistentConnection = false });
        using (var operatorClient = server.CreateAdminClient(nightShift.Key))
        {
            (await operatorClient.PostAsJsonAsync("/tcm/admin/actions/task", new PushTaskRequest { Command = "echo", Name = "Night check", Targets = Targets.Everyone },
                ProtocolJsonContext.Default.PushTaskRequest)).EnsureSuccessStatusCode();
        }

        await using var browser = await ConsoleBrowser.LaunchAsync(server.BaseUrl, output);
        var page = await browser.NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, server.Info.AdminApiKey);
        await Assertions.Expect(page.Locator("#role-pill")).ToHaveTextAsync("admin.key · administrator");
        await page.ClickAsync("nav a[data-nav=audit]");
        var rows = page.Locator("#audit-table > table > tbody > tr");
        await Assertions.Expect(rows).ToHaveCountAsync(5);
        await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-who", "night-shift");
        await Assertions.Expect(rows.First).ToContainTextAsync("POST /actions/task");
        await Assertions.Expect(rows.First.Locator("tr[data-path=name]")).ToContainTextAsync("Night check");
        await Assertions.Expect(page.Locator("#audit-info")).ToHaveTextAsync("1–5 of 5 changes");
        await browser.ShotAsync(page, "audit-01-trail");

        await page.SelectOptionAsync("#audit-kind", "profile");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        var put = rows.First;
        await Assertions.Expect(put).ToContainTextAsync("PUT /profiles/{id}");
        await Assertions.Expect(put.Locator("tr[data-path=priority] .was")).ToHaveTextAsync("10");
        await Assertions.Expect(put.Locator("tr[data-path=priority] .now")).ToHaveTextAsync("20");
        await Assertions.Expect(put.Locator("tr[data-path=persistentConnection] .now")).ToHaveTextAsync("false");
        await browser.ShotAsync(page, "audit-02-profile-changes");

        await page.FillAsync("#audit-who", "nobody");
        await Assertions.Expect(page.Locator("#audit-table")).ToContainTextAsync("Nothing matches these filters.");
        browser.Errors.Should().BeEmpty("the console must run without script errors");
    }

    [ChromiumFact]
    public async Task Audit_page_pages_through_the_trail_a_page_at_a_time_with_its_range_and_its_buttons_disabled_at_either_end()
    {
        ChromiumFactAttribute.EnsureInstalled();
        await using var server = await NotificationServerHost.StartAsync(output, configure: o => o.ServerName = "NS-CONSOLE-TEST");
        await server.SetTcmEnabledAsync(true);
        var office = new CommunicationProfile { Id = "office", Name = "Office", Priority = 1, ServerHosts = ["ns1.corp:4443"] };
        (await server.Admin.PostAsJsonAsync("/tcm/admin/profiles", office, ProtocolJsonContext.Default.CommunicationProfile)).EnsureSuccessStatusCode();
        for (var priority = 2; priority <= 29; priority++)
        {
            await server.PutProfileAsync(office with { Priority = priority });
        }

        await using var browser = await ConsoleBrowser.LaunchAsync(server.BaseUrl, output);
        var page = await browser.NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, server.Info.AdminApiKey);
        await page.ClickAsync("nav a[data-nav=audit]");
        var rows = page.Locator("#audit-table > table > tbody > tr");
        await Assertions.Expect(page.Locator("#audit-info")).ToHaveTextAsync("1–25 of 30 changes");
        await Assertions.Expect(rows).ToHaveCountAsync(25);
        await Assertions.Expect(page.Locator("#audit-prev")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("#audit-next")).ToBeEnabledAsync();

        await page.ClickAsync("#audit-next");
        await Assertions.Expect(page.Locator("#audit-info")).ToHaveTextAsync("26–30 of 30 changes");
        await Assertions.Expect(rows).ToHaveCountAsync(5);
        await Assertions.Expect(page.Locator("#audit-next")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("#audit-prev")).ToBeEnabledAsync();

        await page.ClickAsync("#audit-prev");
        await Assertions.Expect(page.Locator("#audit-info")).ToHaveTextAsync("1–25 of 30 changes");
        await Assertions.Expect(page.Locator("#audit-prev")).ToBeDisabledAsync();
        browser.Errors.Should().BeEmpty("the console must run without script errors");
    }

    [ChromiumFact]
    public async Task A_viewers_console_shows_everything_and_no_control_that_changes_something_and_an_operators_shows_actions()
    {
        ChromiumFactAttribute.EnsureInstalled();
        await using var server = await NotificationServerHost.StartAsync(output, configure: o => o.ServerName = "NS-CONSOLE-TEST");
        var viewer = await server.AddAdminKeyAsync("auditor", AdminRole.Viewer);
        var @operator = await server.AddAdminKeyAsync("night-shift", AdminRole.Operator);

        await using var browser = await ConsoleBrowser.LaunchAsync(server.BaseUrl, output);
        var page = await browser.NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, viewer.Key);
        await Assertions.Expect(page.Locator("#role-pill")).ToHaveTextAsync("auditor · viewer");
        await Assertions.Expect(page.Locator("#act-on-selection")).ToBeHiddenAsync();
        await browser.ShotAsync(page, "viewer-01-fleet");

        await page.GotoAsync("/console/#/settings");
        await Assertions.Expect(page.Locator("#tcm-enabled-label")).ToHaveTextAsync("Off");
        await Assertions.Expect(page.Locator("#save-settings")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("label.switch")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("read-only"));
        await browser.ShotAsync(page, "viewer-02-settings");

        await page.GotoAsync("/console/#/actions");
        await Assertions.Expect(page.Locator("#run-action")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#action-form")).ToBeHiddenAsync();
        await browser.ShotAsync(page, "viewer-03-actions");

        await page.GotoAsync("/console/#/profiles");
        await Assertions.Expect(page.Locator("#profiles-table")).ToContainTextAsync("Default");
        await Assertions.Expect(page.Locator("#new-profile")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator(".package-btn").First).ToBeHiddenAsync();
        await page.GotoAsync("/console/#/profiles/default");
        await Assertions.Expect(page.Locator("#profile-form")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("read-only"));
        await Assertions.Expect(page.Locator("#save-profile")).ToBeHiddenAsync();
        await browser.ShotAsync(page, "viewer-04-profile");

        // The server refuses what the console does not show, whoever calls.
        var status = await page.EvaluateAsync<int>("""
            async () => (await fetch('/tcm/admin/settings', { method: 'PUT', credentials: 'same-origin',
              headers: { 'X-Tcm-Console': '1', 'Content-Type': 'application/json' }, body: '{"tcmEnabled":true}' })).status
            """);
        status.Should().Be(403);
        browser.Errors.RemoveAll(e => e.Contains("status of 403", StringComparison.Ordinal)); // the refused call, on purpose
        (await server.AdminGetAsync("/settings", ProtocolJsonContext.Default.ServerSettings)).TcmEnabled.Should().BeFalse();

        await page.ClickAsync("#logout");
        // why a polling assertion: the sign-out's navigation can commit between WaitForURL's look at the address and its waiter
        // (CI saw the login page served and loaded while WaitForURL waited 20 s for a navigation already done).
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/login$"));
        await ConsoleBrowser.SignInAsync(page, @operator.Key);
        await Assertions.Expect(page.Locator("#role-pill")).ToHaveTextAsync("night-shift · operator");
        await page.GotoAsync("/console/#/actions");
        await Assertions.Expect(page.Locator("#run-action")).ToBeVisibleAsync();
        await browser.ShotAsync(page, "operator-01-actions");
        await page.GotoAsync("/console/#/settings");
        await Assertions.Expect(page.Locator("#save-settings")).ToBeHiddenAsync();
        browser.Errors.Should().BeEmpty("the console must run without script errors");
    }
}
