namespace Tcm.Console.Tests;

/// <summary>
/// The console's push form with a not-after and the urgent switch, and its cancel button, in Debian's Chromium against a real
/// Notification Server and a real agent: an hour-long task is cancelled while it runs and the agent reports it cancelled.
/// </summary>
public sealed class ActionCancelBrowserTests(ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task Administrator_pushes_an_urgent_task_with_a_not_after_and_cancels_it_while_it_runs()
    {
        ChromiumFactAttribute.EnsureInstalled();
        await using var server = await NotificationServerHost.StartAsync(output, tcmEnabled: true);
        var options = RealAgents.Options(await server.Info.CreateInstallPackageAsync(), "LAB-01") with
        {
            Attributes = new Dictionary<string, string> { ["group"] = "lab" },
        };
        await using var agent = await RealAgents.StartAsync(options, output);
        await RealAgents.WaitForIdAsync(agent, TimeSpan.FromSeconds(30));
        await using var browser = await ConsoleBrowser.LaunchAsync(server.BaseUrl, output);
        var page = await browser.NewPageAsync();
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await ConsoleBrowser.SignInAsync(page, server.Info.AdminApiKey);

        await page.GotoAsync("/console/#/actions");
        await page.SelectOptionAsync("#a-command", "sleep");
        await page.FillAsync("#a-params", "seconds=3600");
        await page.FillAsync("#a-not-after", DateTime.Now.AddHours(1).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await page.CheckAsync("#a-urgent");
        await page.Locator(".rule-row .rule-pattern").First.FillAsync("lab");
        await page.ClickAsync("#run-action");
        await Assertions.Expect(page.Locator("[data-count=running]")).ToHaveTextAsync("1", new() { Timeout = 30_000 });
        await browser.ShotAsync(page, "action-running-before-cancel");

        await page.ClickAsync("#cancel-action");

        await Assertions.Expect(page.Locator("#action-progress")).ToHaveTextAsync("Complete", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-count=cancelled]")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#action-targets")).ToContainTextAsync("cancelled by an administrator");
        await Assertions.Expect(page.Locator("#cancel-action")).ToHaveCountAsync(0);
        await browser.ShotAsync(page, "action-cancelled");
        browser.Errors.Should().BeEmpty();
    }
}
