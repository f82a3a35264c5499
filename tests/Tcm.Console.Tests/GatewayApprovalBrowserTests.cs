using System.Net;
using System.Security.Cryptography;
using Tcm.Gateway.Diagnostics;

namespace Tcm.Console.Tests;

/// <summary>
/// The Task Servers and gateways page in Chromium with a real gateway reporting to the real Notification Server: the gateway's
/// counters and the certificate it holds are on the page, the administrator approves it there, and the gateway applies it.
/// Screenshots <c>gateway-01-held.png</c> and <c>gateway-02-approved.png</c> go to <see cref="ConsoleBrowser.ScreenshotDirectory"/>.
/// </summary>
public sealed class GatewayApprovalBrowserTests(ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task Administrator_sees_the_gateway_and_its_held_certificate_and_approves_it()
    {
        await using var server = await ConsoleBrowser.StartServerAsync(output);
        await using var gatewayHost = await GatewayHost.StartAsync(output, [server], configure: o => o.HoldUnknownCertificates = true);

        // An agent with a certificate no CA of the gateway issued knocks: the gateway holds it and tells the NS.
        using var stranger = TestCertificates.SelfSignedClient("stranger-laptop");
        var thumbprint = stranger.GetCertHashString(HashAlgorithmName.SHA256);
        using var agentHttp = new HttpClient(TestCertificates.CreateHandler(gatewayHost.Trust, stranger));
        var policy = new Uri(gatewayHost.Info.RelayBase("ns1") + TcmPaths.Policy);
        (await RefusalAsync(agentHttp, policy)).Should().Be(CloseReasons.CertificateHeld);
        await Eventually.WaitAsync(async () => await server.AdminGetAsync("/gateways", ProtocolJsonContext.Default.IReadOnlyListGatewayView),
            gateways => gateways.Single().Report?.Held.Count == 1, TimeSpan.FromSeconds(10), "the held certificate in the gateway's report");

        await using var browser = await ConsoleBrowser.LaunchAsync(server.BaseUrl, output);
        var page = await browser.NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, server.Info.AdminApiKey);
        await page.GotoAsync("/console/#/servers");
        var gateway = page.Locator($"[data-gateway={GatewayHost.Name}]");
        var row = gateway.Locator($"tr[data-thumbprint=\"{thumbprint}\"]");
        await Assertions.Expect(gateway.Locator("[data-report=current]")).ToBeVisibleAsync();
        await Assertions.Expect(row).ToContainTextAsync("CN=stranger-laptop");
        await Assertions.Expect(gateway.Locator("[data-counter=certificates]")).ToHaveTextAsync("1 / 0 / 0");
        await Assertions.Expect(gateway.Locator("[data-counter=rejections]")).Not.ToContainTextAsync(" 0 total");
        await browser.ShotAsync(page, "gateway-01-held");

        await row.Locator("button[data-decide=approve]").ClickAsync();

        // Only the gateway's own report after it applied the approval empties the list and moves the counters.
        await Assertions.Expect(row).ToHaveCountAsync(0, new() { Timeout = 15_000 });
        await Assertions.Expect(gateway.Locator("[data-held=none]")).ToBeVisibleAsync();
        await Assertions.Expect(gateway.Locator("[data-counter=certificates]")).ToHaveTextAsync("0 / 1 / 0");
        await browser.ShotAsync(page, "gateway-02-approved");

        var onGateway = (await gatewayHost.Admin.GetFromJsonAsync(GatewayPaths.Certificates, GatewayJsonContext.Default.CertificateList))!;
        onGateway.Approved.Select(e => e.Thumbprint).Should().Equal(thumbprint);
        (await RefusalAsync(agentHttp, policy)).Should().NotBe(CloseReasons.CertificateHeld, "the gateway lets the approved certificate through to the NS");
        browser.Errors.Should().BeEmpty("the console must run without script errors");
    }

    private static async Task<string?> RefusalAsync(HttpClient client, Uri uri)
    {
        using var response = await client.GetAsync(uri);
        return response.StatusCode == HttpStatusCode.OK ? null : response.Headers.GetValues("X-Tcm-Refusal").Single();
    }
}
