using Tcm.Agent.Tasks;

namespace Tcm.Console.Tests;

/// <summary>
/// An action going out in waves, in Chromium against a real Notification Server and real agents: the administrator ticks "Send in
/// waves" on the push form (25% every 3 s, stop after 1 failed), watches wave 1 and 2 go while 3 and 4 wait, then wave 3's two
/// failing agents trip the brake and wave 4 is marked not-sent with the reason. Screenshots <c>waves-01-form.png</c>,
/// <c>waves-02-sending.png</c> and <c>waves-03-stopped.png</c> go to <see cref="ConsoleBrowser.ScreenshotDirectory"/>.
/// </summary>
public sealed class WavesBrowserTests(ITestOutputHelper output) : IAsyncDisposable
{
    private readonly OwnedResources _owned = new();

    public ValueTask DisposeAsync() => _owned.DisposeAsync();

    [ChromiumFact]
    public async Task Administrator_sends_a_task_in_waves_and_the_brake_stops_the_rest()
    {
        ChromiumFactAttribute.EnsureInstalled();
        var server = _owned.Own(await NotificationServerHost.StartAsync(output, tcmEnabled: true, configure: o => o.ServerName = "NS-CONSOLE-TEST"));
        var agents = new List<TcmAgent>();
        var package = await server.Info.CreateInstallPackageAsync();
        for (var i = 1; i <= 8; i++)
        {
            var name = $"PC-{i:00}";
            // Wave 3 (PC-05, PC-06) is the bad group: its task fails there.
            var executor = i is 5 or 6 ? new FailingExecutor() : (ITaskExecutor)new BuiltInTaskExecutor();
            agents.Add(_owned.Own(await RealAgents.StartAsync(RealAgents.Options(package, name) with { Attributes = new Dictionary<string, string> { ["group"] = "rollout" } }, output, executor: executor)));
        }

        foreach (var agent in agents)
        {
            await RealAgents.WaitForIdAsync(agent, TimeSpan.FromSeconds(30));
        }

        await Eventually.WaitAsync(ct => server.AdminGetAsync("/fleet", ProtocolJsonContext.Default.FleetSummary, ct), f => f.Persistent == 8, TimeSpan.FromSeconds(30), "every agent on its persistent connection");

        await using var browser = await ConsoleBrowser.LaunchAsync(server.BaseUrl, output);
        var page = await browser.NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, server.Info.AdminApiKey);
        await page.GotoAsync("/console/#/actions");
        await page.FillAsync("#a-name", "Rollout in waves");
        await page.Locator(".rule-row .rule-pattern").First.FillAsync("rollout");
        await page.CheckAsync("#w-on");
        await page.FillAsync("#w-size", "25");
        await page.FillAsync("#w-every", "3");
        await page.FillAsync("#w-stop", "1");
        await page.SelectOptionAsync("#w-stop-unit", "count");
        await browser.ShotAsync(page, "waves-01-form");
        await page.ClickAsync("#run-action");

        // Wave 1 went with the push, wave 2 three seconds later; 3 and 4 wait their turn.
        var waves = page.Locator("#waves-table");
        await Assertions.Expect(page.Locator("#waves-state")).ToHaveTextAsync("Sending waves");
        await Assertions.Expect(page.Locator("#action-waves")).ToContainTextAsync("25% every 3s, stop after 1 failed");
        await Assertions.Expect(waves.Locator("tbody tr")).ToHaveCountAsync(4);
        await Assertions.Expect(waves.Locator("tr[data-wave='2'] [data-wave-count=succeeded]")).ToHaveTextAsync("2", new() { Timeout = 15_000 });
        await Assertions.Expect(waves.Locator("tr[data-wave='4']")).ToContainTextAsync("waiting");
        await Assertions.Expect(page.Locator("#action-targets tr[data-agent] [data-target-wave]")).ToHaveCountAsync(8);
        await browser.ShotAsync(page, "waves-02-sending");

        // Wave 3 fails on both its agents: the brake stops the waves and wave 4 is never sent.
        await Assertions.Expect(page.Locator("#waves-state")).ToHaveTextAsync("Stopped by the brake", new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator("#waves-stop-reason")).ToContainTextAsync("stopped after wave 3 of 4");
        await Assertions.Expect(waves.Locator("tr[data-wave='3'] [data-wave-count=failed]")).ToHaveTextAsync("2");
        await Assertions.Expect(waves.Locator("tr[data-wave='4'] [data-wave-count=not-sent]")).ToHaveTextAsync("2");
        await Assertions.Expect(waves.Locator("tr[data-wave='4']")).ToContainTextAsync("not sent");
        await Assertions.Expect(page.Locator("#action-progress")).ToHaveTextAsync("Complete", new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("[data-count=not-sent]")).ToHaveTextAsync("2");
        await browser.ShotAsync(page, "waves-03-stopped");

        browser.Errors.Should().BeEmpty("the console must run without script errors");
    }

    /// <summary>The bad group's agents: every task fails.</summary>
    private sealed class FailingExecutor : ITaskExecutor
    {
        private readonly BuiltInTaskExecutor _inner = new();

        public ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new TaskOutcome(false, 3, "the installer failed on this computer"));

        public ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken) =>
            _inner.CollectInventoryAsync(classes, cancellationToken);
    }
}
