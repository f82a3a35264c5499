namespace Tcm.Agent.Tests.Connection;

public sealed class TaskServerRoleTests
{
    private static PolicyDocument PolicyWith(params string[] ids) => TestData.Policy() with
    {
        TaskServers = new TaskServerPolicy
        {
            Selection = TaskServerSelection.OrderedList,
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
    public void OnlyTheTaskServerChannel_IsClosedByTheAgent_TheNotificationServerClosesItsOwn()
    {
        using var kit = new ConnectionTestKit();

        kit.Ts.Strategy.ServerEnforcesPolicy.Should().BeFalse();
        kit.Ns.Strategy.ServerEnforcesPolicy.Should().BeTrue();
    }
}
