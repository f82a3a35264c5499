using System.Collections.Concurrent;
using Tcm.Agent.Tasks;

namespace Tcm.Console.Tests;

/// <summary>
/// The action view in Chromium with real agents on a real Notification Server: the results arrive on the page as each agent
/// finishes, carried by the action's event stream (the page reads no action status by polling). Screenshots
/// <c>actions-live-01-arriving.png</c> (half the agents done, the rest still at work) and <c>actions-live-02-complete.png</c>
/// go to <see cref="ConsoleBrowser.ScreenshotDirectory"/>.
/// </summary>
public sealed class ActionResultsBrowserTests(ITestOutputHelper output)
{
    private static readonly string[] Names = ["WEB-01", "WEB-02", "WEB-03", "WEB-04"];

    [ChromiumFact]
    public async Task Results_arrive_on_the_action_view_as_each_agent_finishes()
    {
        ChromiumFactAttribute.EnsureInstalled();
        await using var server = await NotificationServerHost.StartAsync(output, tcmEnabled: true, configure: o => o.ServerName = "NS-CONSOLE-TEST");
        var gates = new Gates();
        var agents = new List<TcmAgent>();
        try
        {
            foreach (var name in Names)
            {
                var options = RealAgents.Options(await server.Info.CreateInstallPackageAsync(), name) with
                {
                    Attributes = new Dictionary<string, string> { ["group"] = "web" },
                };
                agents.Add(await RealAgents.StartAsync(options, output, executor: new GatedExecutor(name, gates)));
            }

            foreach (var agent in agents)
            {
                var id = await RealAgents.WaitForIdAsync(agent, TimeSpan.FromSeconds(30));
                await Eventually.WaitAsync(ct => server.GetAgentAsync(id, ct), a => a.Connected, TimeSpan.FromSeconds(30), $"{id} on its persistent connection");
            }

            await using var browser = await ConsoleBrowser.LaunchAsync(server.BaseUrl, output);
            var page = await browser.NewPageAsync();
            var requests = new ConcurrentQueue<string>();
            page.Request += (_, request) => requests.Enqueue(new Uri(request.Url).AbsolutePath);
            await ConsoleBrowser.SignInAsync(page, server.Info.AdminApiKey);
            await page.GotoAsync("/console/#/actions");
            await page.FillAsync("#a-name", "Web check");
            await page.Locator(".rule-row .rule-pattern").First.FillAsync("web");
            await page.ClickAsync("#run-action");
            await Assertions.Expect(page.Locator("#action-targets tbody tr")).ToHaveCountAsync(Names.Length);
            await gates.StartedAsync(Names.Length);

            gates.Release("WEB-01", "WEB-03");
            await Assertions.Expect(page.Locator("[data-count=succeeded]")).ToHaveTextAsync("2");
            await Assertions.Expect(page.Locator("#action-progress")).ToHaveTextAsync("In progress · live");
            await Assertions.Expect(page.Locator("#action-targets")).ToContainTextAsync("done on WEB-03");
            await browser.ShotAsync(page, "actions-live-01-arriving");

            gates.Release("WEB-02", "WEB-04");
            await Assertions.Expect(page.Locator("#action-progress")).ToHaveTextAsync("Complete");
            await Assertions.Expect(page.Locator("[data-count=succeeded]")).ToHaveTextAsync("4");
            await Assertions.Expect(page.Locator("#action-targets")).ToContainTextAsync("done on WEB-04");
            await browser.ShotAsync(page, "actions-live-02-complete");

            var stream = requests.Should().ContainSingle(p => p.EndsWith("/events", StringComparison.Ordinal), "the view opens the action's event stream once").Subject;
            var actionPath = stream[..^"/events".Length];
            requests.Should().NotContain(actionPath, "the view no longer polls the action's status");
            browser.Errors.Should().BeEmpty("the console must run without script errors");
        }
        finally
        {
            gates.Release(Names);
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }

    /// <summary>One gate per agent, opened by the test; counts the tasks started.</summary>
    private sealed class Gates
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new(StringComparer.Ordinal);
        private int _started;

        public void Release(params string[] names)
        {
            foreach (var name in names)
            {
                Of(name).TrySetResult();
            }
        }

        public Task StartedAsync(int count) =>
            Eventually.WaitAsync(() => Volatile.Read(ref _started), n => n >= count, TimeSpan.FromSeconds(30), $"{count} agents running the task");

        public Task EnterAsync(string name, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _started);
            return Of(name).Task.WaitAsync(cancellationToken);
        }

        private TaskCompletionSource Of(string name) => _gates.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    /// <summary>Runs the agent's task until the test opens its gate, then answers "done on {agent}".</summary>
    private sealed class GatedExecutor(string name, Gates gates) : ITaskExecutor
    {
        public async ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken)
        {
            await gates.EnterAsync(name, cancellationToken);
            return new TaskOutcome(true, 0, $"done on {name}");
        }

        public ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken) =>
            throw new NotSupportedException("this test runs tasks only");
    }
}
