using System.Net;
using Tcm.Agent.Network;
using Tcm.Agent.Routing;

namespace Tcm.Agent.Tests.Connection;

public sealed class TaskServerRoleTests
{
    private static PolicyDocument PolicyWith(params string[] ids) => PolicyWith(TaskServerSelection.OrderedList, ids);

    private static PolicyDocument PolicyWith(TaskServerSelection selection, params string[] ids) => TestData.Policy() with
    {
        TaskServers = new TaskServerPolicy
        {
            Selection = selection,
            Servers = [.. ids.Select(id => new TaskServerEntry { Id = id, Address = $"{id}:4726", RegisteredAgents = 0, MaxAgents = 100 })],
        },
    };

    [Fact]
    public void NoTaskServerInThePolicy_NobodyToCall_AndNoTaskServerInTheNetworkStatus()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = TestData.Policy();

        kit.Ts.Strategy.ChooseRoute(kit.Time.GetUtcNow()).Should().BeNull();

        kit.Ts.State.Route.Should().BeNull();
        var request = () => kit.Ts.Strategy.RouteForRequest();
        request.Should().Throw<AgentChannelClosedException>();
    }

    [Fact]
    public void ChoosesTheFirstByThePolicysMethod_AndKeepsIt()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = PolicyWith("ts1", "ts2");

        var route = kit.Ts.Strategy.ChooseRoute(kit.Time.GetUtcNow());

        route!.HostAndPort.Should().Be("ts1:4726");
        kit.Ts.State.ServerId.Should().Be("ts1");
        kit.Ts.Strategy.RouteForRequest().Should().BeSameAs(route);
    }

    [Fact]
    public void TaskServerFull_FailsOverToTheNextAtOnce()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = PolicyWith("ts1", "ts2");
        var first = kit.Ts.Strategy.ChooseRoute(kit.Time.GetUtcNow())!;

        kit.Ts.Strategy.TryHandleLoss(first, CloseReasons.TaskServerFull, "task-server-full: full", refused: true).Should().BeTrue();

        kit.Ts.ChannelWanted(kit.Time.GetUtcNow(), out _, out _).Should().BeTrue("the next Task Server is tried without delay");
        kit.Ts.Strategy.ChooseRoute(kit.Time.GetUtcNow())!.HostAndPort.Should().Be("ts2:4726");
    }

    [Fact]
    public void ARefusalThatIsNotAboutTheTaskServer_IsLeftToTheCommonHandling()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = PolicyWith("ts1", "ts2");
        var first = kit.Ts.Strategy.ChooseRoute(kit.Time.GetUtcNow())!;

        kit.Ts.Strategy.TryHandleLoss(first, "http-503", "http-503: busy", refused: true).Should().BeFalse();

        kit.Ts.State.ServerId.Should().Be("ts1");
    }

    [Fact]
    public void EveryTaskServerFailed_StartsOverWithBackOff()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = PolicyWith("ts1", "ts2");
        var now = kit.Time.GetUtcNow();
        kit.Ts.Strategy.TryHandleLoss(kit.Ts.Strategy.ChooseRoute(now)!, null, "connection lost", refused: false);
        var second = kit.Ts.Strategy.ChooseRoute(now)!;
        second.HostAndPort.Should().Be("ts2:4726");

        kit.Ts.Strategy.TryHandleLoss(second, null, "connection lost", refused: false);

        kit.Ts.Backoff.Attempt.Should().Be(1);
        kit.Ts.State.NextTaskPoll.Should().Be(kit.Ts.State.ChannelNotBefore, "polling backs off with the channel");
        kit.Ts.Strategy.ChooseRoute(now)!.HostAndPort.Should().Be("ts1:4726", "the list starts over");
    }

    [Fact]
    public async Task FastestConnection_MeasuresEachTaskServerOnce_AndChoosesTheFastest()
    {
        // ts1 is first in the list and has as few computers as ts2; only its slow connect puts it second.
        var network = SlowFirstServer();
        using var kit = FastestConnectionKit(network);

        (await ChooseAsync(kit)).HostAndPort.Should().Be("ts2:4726");

        network.Probes.Should().Equal("ts1", "ts2");
        await ChooseAsync(kit);
        network.Probes.Should().HaveCount(2, "the server in use is kept: nothing to measure while it works");
    }

    [Fact]
    public async Task FastestConnection_WhenEveryTaskServerFailed_MeasuresAgainForTheNextRound()
    {
        var network = SlowFirstServer();
        using var kit = FastestConnectionKit(network);
        kit.Ts.Strategy.TryHandleLoss(await ChooseAsync(kit), null, "connection lost", refused: false);
        (await ChooseAsync(kit)).HostAndPort.Should().Be("ts1:4726", "the faster one failed: the other is next");
        network.Probes.Should().HaveCount(2, "a fail-over within the round uses the round's measurements");

        network["ts1"] = TimeSpan.FromMilliseconds(5);
        kit.Ts.Strategy.TryHandleLoss(kit.Ts.State.Route!, null, "connection lost", refused: false);

        (await ChooseAsync(kit)).HostAndPort.Should().Be("ts1:4726", "ts1 is the faster one now");
        network.Probes.Should().HaveCount(4, "every server failed: the new round measured again");
    }

    [Fact]
    public void OnlyTheTaskServerChannel_IsClosedByTheAgent_TheNotificationServerClosesItsOwn()
    {
        using var kit = new ConnectionTestKit();

        kit.Ts.Strategy.Traits.ServerEnforcesPolicy.Should().BeFalse();
        kit.Ns.Strategy.Traits.ServerEnforcesPolicy.Should().BeTrue();
    }

    private static TimedNetwork SlowFirstServer() => new() { ["ts1"] = TimeSpan.FromMilliseconds(300), ["ts2"] = TimeSpan.FromMilliseconds(20) };

    /// <summary>An agent whose policy lists ts1 and ts2 with the fastest connection, on <paramref name="network"/>.</summary>
    private static ConnectionTestKit FastestConnectionKit(TimedNetwork network)
    {
        var kit = new ConnectionTestKit(network);
        network.Time = kit.Time;
        kit.Agent.Policy = PolicyWith(TaskServerSelection.FastestConnection, "ts1", "ts2");
        return kit;
    }

    /// <summary>Step 3 of the connect sequence: what the choice needs measured, then the choice.</summary>
    private static async Task<AgentRoute> ChooseAsync(ConnectionTestKit kit)
    {
        await kit.Ts.Strategy.PrepareChoiceAsync(CancellationToken.None);
        return kit.Ts.Strategy.ChooseRoute(kit.Time.GetUtcNow())!;
    }

    /// <summary>A network whose connect to each host takes the time set for it on the test's clock (the clock moves during the connect).</summary>
    private sealed class TimedNetwork : INetwork
    {
        private readonly Dictionary<string, TimeSpan> _delays = new(StringComparer.Ordinal);

        public FakeTimeProvider? Time { get; set; }

        /// <summary>The hosts probed, in order.</summary>
        public List<string> Probes { get; } = [];

        public event EventHandler? AdaptersChanged { add { } remove { } }

        public TimeSpan this[string host]
        {
            get => _delays[host];
            set => _delays[host] = value;
        }

        public IReadOnlyList<NetworkAdapter> GetAdapters() => [];

        public ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken)
        {
            purpose.Should().Be(TrafficPurpose.Probe);
            Probes.Add(endpoint.Host);
            Time!.Advance(_delays[endpoint.Host]);
            return ValueTask.FromResult<Stream>(new MemoryStream());
        }
    }
}
