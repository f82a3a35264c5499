using Tcm.Agent.Network;
using Tcm.Agent.Tasks;
using Tcm.Lab.Network;
using Tcm.Lab.Packages;
using Tcm.NotificationServer;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// What every end-to-end test class shares: the servers and agents a test starts are owned here and disposed after the test,
/// newest first (agents before the servers they talk to), and the waits on them share one deadline.
/// </summary>
public abstract class SystemTest(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>How long a test waits for what real servers and agents do.</summary>
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly OwnedResources _owned = new();

    protected ITestOutputHelper Output { get; } = output;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _owned.DisposeAsync();

    /// <summary>Disposes <paramref name="resource"/> after the test, before what was owned earlier.</summary>
    protected T Own<T>(T resource)
        where T : class => _owned.Own(resource);

    /// <summary>
    /// A site on 127.0.0.1: a Notification Server, a Task Server <c>ts1</c>, the lab's package server, a CEM gateway in front of
    /// them (the package server's HTTPS by its lab name and by 127.0.0.1), and a laptop's network on which they are corporate.
    /// </summary>
    private protected async Task<Site> StartSiteAsync()
    {
        var names = new NetworkTopology();
        var ns = await StartNotificationServerAsync();
        var ts = Own(await TaskServerHost.StartAsync(Output, ns, "ts1"));
        var certificate = Own(ns.Info.IssueServerCertificate([LabPackageServer.HostName], [IPAddress.Loopback]));
        var packages = Own(await LabPackageServer.StartAsync(certificate, names, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, CancellationToken.None));
        var gateway = Own(await GatewayHost.StartAsync(Output, [ns],
        [
            new GatewayBackendOptions { Name = "ts1", Address = ts.Info.Address, Kind = BackendKind.TaskServer, Identity = "ns1" },
            new GatewayBackendOptions { Name = "packages", Address = packages.HttpsAddress, ConnectTo = $"127.0.0.1:{packages.HttpsPort}", Kind = BackendKind.TaskServer, Identity = "ns1" },
            new GatewayBackendOptions { Name = "packages-loopback", Address = $"127.0.0.1:{packages.HttpsPort}", Kind = BackendKind.TaskServer, Identity = "ns1" },
        ]));
        var network = new TestNetwork(names);
        network.AddCorporate(ns.Port, new Uri("https://" + ts.Info.Address).Port, packages.HttpsPort, packages.HttpPort, packages.UncPort);
        return new Site(ns, ts, packages, gateway, network);
    }

    /// <summary>A real Notification Server logging to the test's output.</summary>
    protected async Task<NotificationServerHost> StartNotificationServerAsync(bool tcmEnabled = true, Action<NotificationServerOptions>? configure = null) =>
        Own(await NotificationServerHost.StartAsync(Output, tcmEnabled, configure));

    /// <summary>
    /// A real agent with <paramref name="options"/> (on the machine's network unless <paramref name="network"/> is given), also logging
    /// to <paramref name="logs"/> when given.
    /// </summary>
    protected async Task<TcmAgent> StartAgentAsync(AgentOptions options, INetwork? network = null, ITaskExecutor? executor = null, ILoggerProvider? logs = null) =>
        Own(await RealAgents.StartAsync(options, Output, network, executor, logs: logs));

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

/// <summary>What <see cref="SystemTest.StartSiteAsync"/> starts.</summary>
internal sealed record Site(NotificationServerHost Ns, TaskServerHost Ts, LabPackageServer Packages, GatewayHost Gateway, TestNetwork Network);

/// <summary>An end-to-end test class whose every test starts on its own <see cref="Site"/> (<see cref="SystemTest.StartSiteAsync"/>).</summary>
public abstract class SiteTest(ITestOutputHelper output) : SystemTest(output)
{
    private protected NotificationServerHost Ns { get; private set; } = null!;

    private protected TaskServerHost Ts { get; private set; } = null!;

    private protected LabPackageServer Packages { get; private set; } = null!;

    private protected GatewayHost Gateway { get; private set; } = null!;

    /// <summary>The laptop's network the test's agents are on.</summary>
    private protected TestNetwork Laptop { get; private set; } = null!;

    public override async Task InitializeAsync() => (Ns, Ts, Packages, Gateway, Laptop) = await StartSiteAsync();
}
