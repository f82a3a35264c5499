using System.Text.RegularExpressions;
using Tcm.Gateway;

namespace Tcm.Console.Tests;

/// <summary>
/// The console in Chromium with real site servers (Task Servers, a CEM gateway) and real agents; screenshots go to
/// <see cref="ConsoleBrowser.ScreenshotDirectory"/>.
/// </summary>
public sealed class SiteServerBrowserTests(ITestOutputHelper output)
{
    /// <summary>
    /// The profile's gateway address, checked on save in the console against the registered gateway (a wrong port is named, with
    /// where the gateway listens); then the agent page for an agent on the internet: a real agent reaches the Notification Server and a Task Server through a real CEM
    /// gateway, and its Network Status shows both legs of each connection (agent to gateway, and gateway to server as the gateway
    /// reports it), each with its cryptographic protocol and cipher suite, and "View internet gateway certificate". Screenshots
    /// <c>cem-00-profile-wrong-port.png</c>, <c>cem-01-network-status.png</c> and <c>cem-02-gateway-certificate.png</c>.
    /// </summary>
    [ChromiumFact]
    public async Task Administrator_is_told_of_a_wrong_gateway_port_then_sees_both_legs_of_a_CEM_agents_connections_and_the_gateways_certificate()
    {
        await using var server = await ConsoleBrowser.StartServerAsync(output, tcmEnabled: true);
        await using var taskServer = await TaskServerHost.StartAsync(output, server, "ts1");
        await using var gateway = await GatewayHost.StartAsync(output, [server],
            [new GatewayBackendOptions { Name = "ts1", Address = taskServer.Info.Address, Kind = BackendKind.TaskServer, Identity = "ns1" }]);
        await Eventually.WaitAsync(() => server.ListTaskServersAsync(), l => l.SingleOrDefault()?.Online == true, TimeSpan.FromSeconds(30), "the Task Server online");

        await using var browser = await ConsoleBrowser.LaunchAsync(server.BaseUrl, output);
        var page = await browser.NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, server.Info.AdminApiKey);

        // The internet profile, edited in the console: first with the gateway on the wrong port ("443 against 4726"), which the
        // server says out loud on save (the registered gateway and where it listens), then with the right one.
        var gatewayUri = new Uri(gateway.Info.BaseUrl);
        var wrongPort = gatewayUri.Port == 4726 ? 4727 : 4726;
        await page.GotoAsync("/console/#/profiles/default");
        await page.CheckAsync("#p-cem");
        await page.FillAsync("#p-gw", $"{gatewayUri.Host}:{wrongPort}");
        await page.ClickAsync("#save-profile");
        var problems = page.Locator("#profile-problems");
        await Assertions.Expect(problems).ToBeVisibleAsync();
        await Assertions.Expect(problems).ToContainTextAsync($"cem.gatewayAddress: port {wrongPort} does not match: gateway '");
        await Assertions.Expect(problems).ToContainTextAsync(new Regex($@"listens on \S+:{gatewayUri.Port}\b"));
        await browser.ShotAsync(page, "cem-00-profile-wrong-port");
        await page.FillAsync("#p-gw", gateway.Info.HostAndPort);
        await page.ClickAsync("#save-profile");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("#/profiles$"));
        (await server.GetDefaultProfileAsync()).Cem.Should().BeEquivalentTo(new { GatewayAddress = gateway.Info.HostAndPort, Enabled = true });

        // "Prefer CEM gateway connection" for everyone.
        using (var response = await server.Admin.PostAsJsonAsync($"{TcmPaths.Admin}/agent-settings",
            new TargetedAgentSettings { Name = "internet", Priority = 1, Settings = new AgentSettings { PreferCem = true } }, ProtocolJsonContext.Default.TargetedAgentSettings))
        {
            response.EnsureSuccessStatusCode();
        }

        var options = RealAgents.Options(await server.Info.CreateInstallPackageAsync("default"), "LAPTOP-HOME") with { OsName = "Windows 11 Enterprise" };
        await using var agent = await RealAgents.StartAsync(options, output);
        var status = await Eventually.WaitAsync(agent.GetNetworkStatus,
            s => s.Mode == ConnectionMode.Cem && s.Transport == TransportKind.Persistent && s.BackendTlsProtocol is not null
                && s.TaskServer is { Mode: ConnectionMode.Cem, Transport: TransportKind.Persistent, BackendTlsProtocol: not null },
            TimeSpan.FromSeconds(30), "both channels persistent through the gateway, with the gateway's report of its leg");

        await page.GotoAsync($"/console/#/agents/{Uri.EscapeDataString(agent.AgentId!)}");
        var panel = page.Locator("#network-status");
        await Assertions.Expect(page.Locator("#ns-availability").First).ToHaveTextAsync("Available via internet gateway");
        await Assertions.Expect(page.Locator("#server-connection").First).ToHaveTextAsync("Persistent");
        var legs = panel.Locator("dl.netstatus").First;
        await Assertions.Expect(legs.Locator("[data-leg=gateway]")).ToContainTextAsync($"Cryptographic protocol: {status.GatewayTlsProtocol}");
        await Assertions.Expect(legs.Locator("[data-leg=gateway]")).ToContainTextAsync($"Cipher suite: {status.GatewayCipherSuite}");
        await Assertions.Expect(legs.Locator("[data-leg=backend]")).ToContainTextAsync("Gateway to server (as the gateway reports it)");
        await Assertions.Expect(legs.Locator("[data-leg=backend]")).ToContainTextAsync($"Cryptographic protocol: {status.BackendTlsProtocol}");
        await Assertions.Expect(legs.Locator("[data-leg=backend]")).ToContainTextAsync($"Cipher suite: {status.BackendCipherSuite}");
        // The Task Server connection goes through the same gateway: its two legs too.
        var taskServerLegs = panel.Locator("dl.netstatus").Nth(1);
        await Assertions.Expect(taskServerLegs.Locator("[data-leg=gateway]")).ToContainTextAsync("Cryptographic protocol");
        await Assertions.Expect(taskServerLegs.Locator("[data-leg=backend]")).ToContainTextAsync($"Cryptographic protocol: {status.TaskServer!.BackendTlsProtocol}");
        await Assertions.Expect(panel.Locator("#last-attempt").First).ToContainTextAsync($"{gateway.Info.HostAndPort} for");
        await browser.ShotAsync(page, "cem-01-network-status");

        await legs.Locator("summary:has-text('View internet gateway certificate')").ClickAsync();
        var certificate = legs.Locator("details.cert[open]");
        await Assertions.Expect(certificate).ToContainTextAsync(status.GatewayCertificate!.Subject);
        await Assertions.Expect(certificate).ToContainTextAsync(status.GatewayCertificate.Issuer);
        await Assertions.Expect(certificate).ToContainTextAsync(status.GatewayCertificate.Thumbprint);
        await browser.ShotAsync(page, "cem-02-gateway-certificate");
        browser.Errors.Should().BeEmpty("the console must run without script errors");
    }

    /// <summary>
    /// Editing how agents choose their Task Server on the Task Servers and gateways page, with two real Task Servers: the administrator
    /// picks the ordered list, builds a list for the Berlin site and one for any other site, saves, and real agents of each site go to
    /// the Task Server their list puts first; then switches to the fastest connection. Screenshots
    /// <c>ts-selection-01-ordered-list.png</c>, <c>ts-selection-02-saved.png</c> and <c>ts-selection-03-fastest.png</c>.
    /// </summary>
    [ChromiumFact]
    public async Task Administrator_edits_the_ordered_list_per_site_and_agents_follow_it()
    {
        await using var server = await ConsoleBrowser.StartServerAsync(output, tcmEnabled: true);
        await using var ts1 = await TaskServerHost.StartAsync(output, server, "ts-berlin-1");
        await using var ts2 = await TaskServerHost.StartAsync(output, server, "ts-berlin-2");
        await Eventually.WaitAsync(() => server.ListTaskServersAsync(), l => l.Count == 2 && l.All(t => t.Online), TimeSpan.FromSeconds(30), "both Task Servers online");

        await using var browser = await ConsoleBrowser.LaunchAsync(server.BaseUrl, output);
        var page = await browser.NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, server.Info.AdminApiKey);
        await page.GotoAsync("/console/#/servers");
        var editor = page.Locator("#ts-selection");
        await Assertions.Expect(editor.Locator("input[name=ts-method][value=fewest-computers]")).ToBeCheckedAsync();

        // Berlin: ts-berlin-2 first, then ts-berlin-1 (added in the other order and moved up); any other site: ts-berlin-1 only.
        await editor.Locator("input[name=ts-method][value=ordered-list]").CheckAsync();
        await AddSiteAsync(editor, "Berlin");
        var berlin = editor.Locator(".ts-site[data-site=Berlin]");
        await AddTaskServerAsync(berlin, ts1.Info.Id);
        await AddTaskServerAsync(berlin, ts2.Info.Id);
        await berlin.Locator($"li[data-ts='{ts2.Info.Id}'] button[data-move='-1']").ClickAsync();
        await AddSiteAsync(editor, "*");
        await AddTaskServerAsync(editor.Locator(".ts-site[data-site='*']"), ts1.Info.Id);
        await Assertions.Expect(berlin.Locator("li")).ToHaveTextAsync([new Regex("ts-berlin-2"), new Regex("ts-berlin-1")]);
        await browser.ShotAsync(page, "ts-selection-01-ordered-list");

        await editor.Locator("#ts-selection-save").ClickAsync();
        var saved = await Eventually.WaitAsync(() => server.AdminGetAsync("/task-servers/selection", ProtocolJsonContext.Default.TaskServerSelectionSettings),
            s => s.Selection == TaskServerSelection.OrderedList, TimeSpan.FromSeconds(10), "the ordered list saved through the admin API");
        saved.OrderedBySite["Berlin"].Should().Equal(ts2.Info.Id, ts1.Info.Id);
        saved.OrderedBySite["*"].Should().Equal(ts1.Info.Id);

        // What the page shows after a reload is what the server kept.
        await page.ReloadAsync();
        await Assertions.Expect(editor.Locator("input[name=ts-method][value=ordered-list]")).ToBeCheckedAsync();
        await Assertions.Expect(berlin.Locator("li")).ToHaveTextAsync([new Regex("ts-berlin-2"), new Regex("ts-berlin-1")]);
        await browser.ShotAsync(page, "ts-selection-02-saved");

        // Agents follow the list of their site.
        await using var inBerlin = await StartAgentAsync(server, "PC-BERLIN", "Berlin");
        await using var inParis = await StartAgentAsync(server, "PC-PARIS", "Paris");
        await WaitForTaskServerAsync(inBerlin, "PC-BERLIN", ts2.Info.Address);
        await WaitForTaskServerAsync(inParis, "PC-PARIS", ts1.Info.Address);

        // The fastest connection: the lists stay stored for a later return to the ordered list.
        await editor.Locator("input[name=ts-method][value=fastest-connection]").CheckAsync();
        await Assertions.Expect(editor.Locator("#ts-order")).ToHaveCountAsync(0);
        await editor.Locator("#ts-selection-save").ClickAsync();
        saved = await Eventually.WaitAsync(() => server.AdminGetAsync("/task-servers/selection", ProtocolJsonContext.Default.TaskServerSelectionSettings),
            s => s.Selection == TaskServerSelection.FastestConnection, TimeSpan.FromSeconds(10), "the fastest connection saved");
        saved.OrderedBySite["Berlin"].Should().Equal(ts2.Info.Id, ts1.Info.Id);
        await browser.ShotAsync(page, "ts-selection-03-fastest");
        browser.Errors.Should().BeEmpty("the console must run without script errors");
    }

    private static async Task AddSiteAsync(ILocator editor, string site)
    {
        await editor.Locator("#ts-new-site").FillAsync(site);
        await editor.Locator("#ts-add-site").ClickAsync();
        await Assertions.Expect(editor.Locator($".ts-site[data-site='{site}']")).ToBeVisibleAsync();
    }

    private static async Task AddTaskServerAsync(ILocator site, string id)
    {
        var before = await site.Locator("li").CountAsync();
        await site.Locator("select").SelectOptionAsync(id);
        await site.Locator("button[data-add]").ClickAsync();
        await Assertions.Expect(site.Locator("li")).ToHaveCountAsync(before + 1);
    }

    private async Task<TcmAgent> StartAgentAsync(NotificationServerHost server, string computerName, string site)
    {
        var options = RealAgents.Options(await server.Info.CreateInstallPackageAsync(), computerName) with
        {
            Attributes = new Dictionary<string, string> { ["site"] = site },
        };
        return await RealAgents.StartAsync(options, output);
    }

    private static Task WaitForTaskServerAsync(TcmAgent agent, string name, string address) =>
        Eventually.WaitAsync(agent.GetNetworkStatus, s => s.TaskServer is { Transport: TransportKind.Persistent } ts && ts.ServerAddress == address,
            TimeSpan.FromSeconds(30), $"{name}'s Client Task Agent persistent with {address}");
}
