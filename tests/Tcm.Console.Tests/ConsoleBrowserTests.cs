namespace Tcm.Console.Tests;

/// <summary>
/// The console in Debian's Chromium (Playwright for .NET) against a real Notification Server and real agents: sign in,
/// enable TCM, create a profile targeted at a group, watch those agents move to persistent without a reload, push a task
/// and watch the results arrive, open an agent's Network Status and terminate its persistent connection. Every page is
/// photographed into <see cref="ConsoleBrowser.ScreenshotDirectory"/> (<c>TestResults/console-screenshots/</c> under the working directory).
/// </summary>
public sealed class ConsoleBrowserTests(ITestOutputHelper output) : IAsyncDisposable
{
    private readonly OwnedResources _owned = new();
    private readonly List<TcmAgent> _agents = [];
    private NotificationServerHost? _server;
    private ConsoleBrowser? _browser;

    public ValueTask DisposeAsync() => _owned.DisposeAsync();

    [ChromiumFact]
    public async Task Administrator_enables_tcm_targets_a_group_pushes_a_task_and_terminates_a_connection()
    {
        _server = _owned.Own(await ConsoleBrowser.StartServerAsync(output));

        // The built-in Default profile targets everyone with persistent connection on; switch that off, so only the
        // group the administrator targets below moves to persistent.
        var defaultProfile = await _server.GetProfileAsync("default");
        defaultProfile.PersistentConnection = false;
        await _server.PutProfileAsync(defaultProfile);

        var poll = TimeSpan.FromMilliseconds(500);
        foreach (var (name, group) in new[] { ("SALES-01", "sales"), ("SALES-02", "sales"), ("SALES-03", "sales"), ("ENG-01", "engineering"), ("ENG-02", "engineering"), ("ENG-03", "engineering") })
        {
            // Polls every half second while it has no persistent connection.
            var options = RealAgents.Options(await _server.Info.CreateInstallPackageAsync(), name, poll) with
            {
                OsName = "Windows 11 Enterprise",
                Attributes = new Dictionary<string, string> { ["group"] = group, ["site"] = "Berlin" },
            };
            _agents.Add(_owned.Own(await RealAgents.StartAsync(options, output)));
        }

        foreach (var agent in _agents)
        {
            await RealAgents.WaitForIdAsync(agent, TimeSpan.FromSeconds(30));
        }

        _browser = _owned.Own(await ConsoleBrowser.LaunchAsync(_server.BaseUrl, output));
        var page = await _browser.NewPageAsync();

        // Sign in.
        await page.GotoAsync("/console/");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/login$"));
        await page.FillAsync("#admin-key", "wrong key");
        await page.ClickAsync("#login-submit");
        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("not the admin key");
        _browser.Errors.RemoveAll(e => e.Contains("status of 401", StringComparison.Ordinal)); // the refused key, on purpose
        await page.FillAsync("#admin-key", _server.Info.AdminApiKey);
        await Shot(page, "01-login");
        await page.ClickAsync("#login-submit");
        await Assertions.Expect(page.Locator("#fleet-stats")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-stat=total]")).ToHaveTextAsync("6");
        await Assertions.Expect(page.Locator("#tcm-pill")).ToHaveTextAsync("TCM off");

        // A second tab keeps the Fleet page open: it must follow what happens without a reload.
        var fleetTab = await _browser.NewPageAsync();
        await fleetTab.GotoAsync("/console/#/fleet");
        await Assertions.Expect(fleetTab.Locator("[data-stat=persistent]")).ToHaveTextAsync("0");
        await Assertions.Expect(fleetTab.Locator("#live")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("live-on"));

        // Settings: TCM communication on.
        await page.GotoAsync("/console/#/settings");
        await Assertions.Expect(page.Locator("#tcm-enabled")).Not.ToBeCheckedAsync();
        await page.ClickAsync("label.switch");
        await Assertions.Expect(page.Locator("#tcm-enabled-label")).ToHaveTextAsync("On");
        await page.ClickAsync("#save-settings");
        await Assertions.Expect(page.Locator("#tcm-pill")).ToHaveTextAsync("TCM on");
        await Shot(page, "02-settings");

        // A communication profile with persistent connection, targeted at the sales group.
        await page.GotoAsync("/console/#/profiles");
        await page.ClickAsync("#new-profile");
        await page.FillAsync("#p-name", "Sales: persistent connection");
        await page.FillAsync("#p-priority", "10");
        await Assertions.Expect(page.Locator("#p-persistent")).ToBeCheckedAsync();
        await FillFirstRuleAsync(page, "group", "sales");
        await SaveAsync(page, "03-profile-edit", "#save-profile", "#profiles-table", "04-profiles", "Sales: persistent connection", "group = sales");

        // The open Fleet tab sees the three sales agents move to persistent, pushed by the server's feed.
        await Assertions.Expect(fleetTab.Locator("[data-stat=persistent]")).ToHaveTextAsync("3", new() { Timeout = 30_000 });
        await Assertions.Expect(fleetTab.Locator("[data-stat=http]")).ToHaveTextAsync("3");
        await Assertions.Expect(fleetTab.Locator("#agents tbody tr")).ToHaveCountAsync(6);
        await Assertions.Expect(fleetTab.Locator("#agents tr[data-name=SALES-01]")).ToContainTextAsync("Persistent", new() { Timeout = 10_000 });
        await Shot(fleetTab, "05-fleet");
        await fleetTab.CloseAsync();

        // Targeted agent settings: the VPN adapters list and "Prefer CEM gateway connection if VPN connection is established".
        await page.GotoAsync("/console/#/agent-settings");
        await Shot(page, "06-agent-settings-empty");
        await page.ClickAsync("#new-agent-settings");
        await page.FillAsync("#s-name", "Road warriors");
        await page.FillAsync("#s-vpn", "*Virtual Network Adapter*\nPANGP*");
        await page.CheckAsync("#s-prefer-cem-vpn");
        await page.ClickAsync("#s-scope-selected");
        await page.ClickAsync("#s-add-rule");
        await FillFirstRuleAsync(page, "site", "Berlin");
        await SaveAsync(page, "07-agent-settings-edit", "#save-settings", "#agent-settings-table", "08-agent-settings", "Road warriors", "PANGP*");

        // Actions: push an echo task to the sales group and watch the three results arrive.
        await page.GotoAsync("/console/#/actions");
        await page.FillAsync("#a-name", "Console check-in");
        await page.Locator(".rule-row .rule-pattern").First.FillAsync("sales");
        await page.ClickAsync("#run-action");
        await Assertions.Expect(page.Locator("#action-progress")).ToHaveTextAsync("Complete", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-count=succeeded]")).ToHaveTextAsync("3");
        await Assertions.Expect(page.Locator("#action-targets tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#action-targets")).ToContainTextAsync("Hello from the TCM console");
        await Assertions.Expect(page.Locator("#action-targets")).ToContainTextAsync("persistent");
        await Shot(page, "09-actions");

        // Fleet search, then SALES-01's Network Status, then terminate its persistent connection.
        await page.GotoAsync("/console/#/fleet");
        await page.FillAsync("#agent-search", "SALES-01");
        await Assertions.Expect(page.Locator("#agents tbody tr")).ToHaveCountAsync(1);
        await page.ClickAsync("#agents tbody tr a");
        await Assertions.Expect(page.Locator("#server-connection")).ToHaveTextAsync("Persistent");
        await Assertions.Expect(page.Locator("#ns-availability")).ToContainTextAsync("Available");
        await Assertions.Expect(page.Locator("#network-status")).ToContainTextAsync("Cryptographic protocol");
        await Assertions.Expect(page.Locator("#peer-downloading")).ToHaveTextAsync("Disabled");
        await Assertions.Expect(page.Locator("#network-usage")).ToHaveTextAsync("Unrestricted");
        await Assertions.Expect(page.Locator("#last-attempt")).ToContainTextAsync("connected");
        await Shot(page, "10-agent-network-status");
        // "View Notification Server certificate": the certificate the agent saw on its connection.
        await page.ClickAsync("#network-status summary:has-text('View Notification Server certificate')");
        await Assertions.Expect(page.Locator("#network-status details.cert[open]").First).ToContainTextAsync("Thumbprint");
        await Shot(page, "10b-agent-certificate");
        await page.ClickAsync("#terminate");
        await Assertions.Expect(page.Locator("#server-connection")).ToHaveTextAsync("HTTP");
        await Shot(page, "11-agent-terminated");
        var sales01 = _agents[0].AgentId!;
        (await _server.GetAgentAsync(sales01)).Connected.Should().BeFalse("the administrator terminated the persistent connection");

        // Task Servers and gateways: none on this server.
        await page.GotoAsync("/console/#/servers");
        await Assertions.Expect(page.Locator("#task-servers")).ToContainTextAsync("No Task Servers");
        await Shot(page, "12-servers");

        _browser.Errors.Should().BeEmpty("the console must run without script errors");
    }

    private static async Task FillFirstRuleAsync(IPage page, string attribute, string pattern)
    {
        await page.Locator(".rule-row .rule-attr").First.FillAsync(attribute);
        await page.Locator(".rule-row .rule-pattern").First.FillAsync(pattern);
    }

    /// <summary>Photographs the filled form, saves it, and expects <paramref name="table"/> to list every one of <paramref name="listed"/>.</summary>
    private async Task SaveAsync(IPage page, string formShot, string saveButton, string table, string tableShot, params string[] listed)
    {
        await Shot(page, formShot);
        await page.ClickAsync(saveButton);
        foreach (var text in listed)
        {
            await Assertions.Expect(page.Locator(table)).ToContainTextAsync(text);
        }

        await Shot(page, tableShot);
    }

    private Task Shot(IPage page, string name) => _browser!.ShotAsync(page, name);
}
