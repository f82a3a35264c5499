using System.Net.Http.Json;
using Microsoft.Playwright;
using Tcm.Agent;
using Tcm.Console.Tests.Infrastructure;
using Tcm.Gateway;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Console.Tests;

/// <summary>
/// The agent page in Chromium for an agent on the internet: a real agent reaches the real Notification Server and a real Task Server
/// through a real CEM gateway, and its Network Status shows both legs of each connection (agent to gateway, and gateway to server as
/// the gateway reports it), each with its cryptographic protocol and cipher suite, and "View internet gateway certificate".
/// Screenshots <c>cem-01-network-status.png</c> and <c>cem-02-gateway-certificate.png</c> go to <see cref="ConsoleBrowser.ScreenshotDirectory"/>.
/// </summary>
public sealed class CemNetworkStatusBrowserTests(ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task Administrator_sees_both_legs_of_a_CEM_agents_connections_and_the_gateways_certificate()
    {
        ChromiumFactAttribute.EnsureInstalled();
        await using var server = await NotificationServerHost.StartAsync(output, tcmEnabled: true, configure: o => o.ServerName = "NS-CONSOLE-TEST");
        await using var taskServer = await TaskServerHost.StartAsync(output, server, "ts1");
        await using var gateway = await GatewayHost.StartAsync(output, [server],
            [new GatewayBackendOptions { Name = "ts1", Address = taskServer.Info.Address, Kind = BackendKind.TaskServer, Identity = "ns1" }]);
        await Eventually.WaitAsync(() => server.ListTaskServersAsync(), l => l.SingleOrDefault()?.Online == true, TimeSpan.FromSeconds(30), "the Task Server online");

        // The internet profile: the gateway in the Default profile, and "Prefer CEM gateway connection" for everyone.
        var profile = await server.GetDefaultProfileAsync();
        await server.PutProfileAsync(profile with { Cem = new CemSettings { GatewayAddress = gateway.Info.HostAndPort } });
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

        await using var browser = await ConsoleBrowser.LaunchAsync(server.BaseUrl, output);
        var page = await browser.NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, server.Info.AdminApiKey);
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
}
