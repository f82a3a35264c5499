using Tcm.Agent.Network;
using Tcm.Agent.Tasks;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// What every end-to-end test class shares: the servers and agents a test starts are owned here and disposed after the test,
/// newest first (agents before the servers they talk to), and the waits on them share one deadline.
/// </summary>
public abstract class SystemTest(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>How long a test waits for what real servers and agents do.</summary>
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly Stack<object> _owned = new();

    protected ITestOutputHelper Output { get; } = output;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        while (_owned.TryPop(out var owned))
        {
            switch (owned)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    /// <summary>Disposes <paramref name="resource"/> after the test, before what was owned earlier.</summary>
    protected T Own<T>(T resource)
        where T : class
    {
        _owned.Push(resource);
        return resource;
    }

    /// <summary>A real Notification Server logging to the test's output.</summary>
    protected async Task<NotificationServerHost> StartNotificationServerAsync(bool tcmEnabled = true) =>
        Own(await NotificationServerHost.StartAsync(Output, tcmEnabled));

    /// <summary>A real agent with <paramref name="options"/> (on the machine's network unless <paramref name="network"/> is given).</summary>
    protected async Task<TcmAgent> StartAgentAsync(AgentOptions options, INetwork? network = null, ITaskExecutor? executor = null) =>
        Own(await RealAgents.StartAsync(options, Output, network, executor));

    /// <summary>Waits until <paramref name="agent"/>'s Network Status satisfies <paramref name="condition"/>.</summary>
    protected static Task<NetworkStatus> WaitForStatusAsync(TcmAgent agent, Func<NetworkStatus, bool> condition, string what) =>
        Eventually.WaitAsync(agent.GetNetworkStatus, condition, Deadline, what);

    /// <summary>Waits until the agent works over HTTP and its Network Status says why (<paramref name="reason"/>).</summary>
    protected static Task<NetworkStatus> WaitForHttpBecauseAsync(TcmAgent agent, string reason) =>
        WaitForStatusAsync(agent, s => IsHttpBecause(s, reason), $"HTTP because of {reason}");

    /// <summary>Whether <paramref name="status"/> is HTTP and says it is because of <paramref name="reason"/>.</summary>
    protected static bool IsHttpBecause(NetworkStatus status, string reason) =>
        status.Transport == TransportKind.Http && (status.TransportDetail?.Contains(reason, StringComparison.Ordinal) ?? false);

    /// <summary>Waits until <paramref name="ns"/>'s action satisfies <paramref name="condition"/>; fails at once while the NS is down.</summary>
    protected static Task<ActionStatus> WaitForActionAsync(NotificationServerHost ns, string actionId, Func<ActionStatus, bool> condition, string what) =>
        Eventually.WaitAsync(() => ns.IsRunning ? ns.GetActionAsync(actionId) : throw new InvalidOperationException("the NS is down"), condition, Deadline, what);

    /// <summary>Waits until every target of the action is in <paramref name="state"/>.</summary>
    protected static Task<ActionStatus> WaitForStateAsync(NotificationServerHost ns, string actionId, TaskState state) =>
        WaitForActionAsync(ns, actionId, s => s.Targets.Count > 0 && s.Targets.All(t => t.State == state), $"every target {state}");

    /// <summary>Waits until <paramref name="ns"/> lists Task Servers that satisfy <paramref name="condition"/>.</summary>
    protected static Task<IReadOnlyList<TaskServerInfoView>> WaitForTaskServersAsync(NotificationServerHost ns, Func<IReadOnlyList<TaskServerInfoView>, bool> condition, string what) =>
        Eventually.WaitAsync(() => ns.ListTaskServersAsync(), condition, Deadline, what);

    /// <summary>
    /// Waits until <paramref name="count"/> Task Servers reported their bound address and hold their long poll: policies list them
    /// correctly from then on.
    /// </summary>
    protected static Task<IReadOnlyList<TaskServerInfoView>> WaitForTaskServersOnlineAsync(NotificationServerHost ns, int count) =>
        WaitForTaskServersAsync(ns, l => l.Count == count && l.All(t => t.Online && t.Address is { } a && !a.EndsWith(":0", StringComparison.Ordinal)),
            "the Task Servers to be online at the NS");
}
