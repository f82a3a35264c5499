using Microsoft.Extensions.Logging;
using Tcm.Agent;
using Tcm.Agent.Network;
using Tcm.Agent.State;
using Tcm.Agent.Tasks;
using Tcm.Protocol;

namespace Tcm.Testing;

/// <summary>Real agents (the real <see cref="TcmAgent"/> over real loopback sockets) for tests against real servers.</summary>
public static class RealAgents
{
    /// <summary>
    /// Options for an agent installed from <paramref name="package"/>: retries after 100 ms growing to 800 ms, and polls
    /// every <paramref name="poll"/>, or once an hour when a test is not about polling (then what arrives sooner was pushed).
    /// </summary>
    public static AgentOptions Options(InstallPackage package, string computerName, TimeSpan? poll = null) => new()
    {
        Package = package,
        ComputerName = computerName,
        Domain = "corp.test",
        OsName = "Windows 11",
        Backoff = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(100), Max = TimeSpan.FromMilliseconds(800) },
        PolicyRefreshOverride = poll ?? TimeSpan.FromHours(1),
        TaskPollOverride = poll ?? TimeSpan.FromHours(1),
        StartJitter = TimeSpan.Zero,
    };

    /// <summary>
    /// Starts an agent with <paramref name="options"/> that logs to <paramref name="output"/> under its computer name, on the
    /// machine's network unless <paramref name="network"/> is given, running tasks with the built-in executor unless
    /// <paramref name="executor"/> is given, keeping its state in <paramref name="state"/> (a new store when null; one store over two
    /// agents in turn is one agent that was away), and also logging to <paramref name="logs"/> when given (to assert on what it
    /// logged). The caller disposes it.
    /// </summary>
    public static async Task<TcmAgent> StartAsync(
        AgentOptions options,
        ITestOutputHelper output,
        INetwork? network = null,
        ITaskExecutor? executor = null,
        CancellationToken cancellationToken = default,
        IAgentStateStore? state = null,
        ILoggerProvider? logs = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var loggers = XunitLoggerProvider.CreateFactory(output, $"{options.ComputerName,-8}");
        if (logs is not null)
        {
            loggers.AddProvider(logs);
        }

        var agent = new TcmAgent(
            options,
            network ?? new OsNetwork(),
            state ?? new InMemoryAgentStateStore(),
            executor ?? new BuiltInTaskExecutor(),
            TimeProvider.System,
            loggers);
        try
        {
            await agent.StartAsync(cancellationToken);
        }
        catch
        {
            await agent.DisposeAsync();
            throw;
        }

        return agent;
    }

    /// <summary>Waits until <paramref name="agent"/> has registered and returns its id.</summary>
    public static async Task<string> WaitForIdAsync(TcmAgent agent, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(agent);
        var id = await Eventually.WaitAsync(() => agent.AgentId, id => id is not null, deadline ?? Eventually.DefaultDeadline, "the agent to register", cancellationToken);
        return id!;
    }
}
