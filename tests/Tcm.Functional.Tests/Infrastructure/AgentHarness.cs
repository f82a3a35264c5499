using Tcm.Testing;
using Microsoft.Extensions.Logging;
using Tcm.Agent;
using Tcm.Agent.Network;
using Tcm.Agent.State;
using Tcm.Agent.Tasks;
using Tcm.Protocol;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>Real agents (the real Tcm.Agent over real loopback sockets) against a test server.</summary>
internal static class AgentHarness
{
    public static async Task<TcmAgent> StartAgentAsync(
        NotificationServerHost server,
        ITestOutputHelper output,
        string computerName,
        TimeSpan? poll = null,
        IReadOnlyDictionary<string, string>? attributes = null,
        Version? httpVersion = null)
    {
        var package = await server.Info.CreateInstallPackageAsync();
        var loggers = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output, $"{computerName,-5}")).SetMinimumLevel(LogLevel.Information));
        var options = new AgentOptions
        {
            Package = package,
            ComputerName = computerName,
            Domain = "corp.test",
            OsName = "Windows 11",
            Attributes = attributes,
            HttpVersion = httpVersion ?? System.Net.HttpVersion.Version20,
            Backoff = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(100), Max = TimeSpan.FromMilliseconds(800) },
            // An hour unless a test is about polling: a task that arrives sooner came over the channel.
            PolicyRefreshOverride = poll ?? TimeSpan.FromHours(1),
            TaskPollOverride = poll ?? TimeSpan.FromHours(1),
        };
        var agent = new TcmAgent(options, new OsNetwork(), new InMemoryAgentStateStore(), new BuiltInTaskExecutor(), TimeProvider.System, loggers);
        await agent.StartAsync(CancellationToken.None);
        return agent;
    }

    public static Task<string> WaitForIdAsync(TcmAgent agent) =>
        Eventually.WaitAsync(() => agent.AgentId, id => id is not null, TimeSpan.FromSeconds(15), "the agent to register")!;
}
