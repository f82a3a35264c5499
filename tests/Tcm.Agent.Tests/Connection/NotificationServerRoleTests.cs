namespace Tcm.Agent.Tests.Connection;

public sealed class NotificationServerRoleTests
{
    [Fact]
    public void Route_IsThePolicysFirstServerHost_ElseTheInstallPackagesServer()
    {
        using var kit = new ConnectionTestKit();

        kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!.HostAndPort.Should().Be("ns.corp:4443");
        kit.Agent.Policy = TestData.Policy(hosts: ["ns2.corp:4443", "ns3.corp:4443"]);
        kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!.HostAndPort.Should().Be("ns2.corp:4443");
        kit.Ns.Strategy.RouteForRequest().HostAndPort.Should().Be("ns2.corp:4443");
    }

    [Fact]
    public void AFailure_MovesToThePolicysNextServerHost_RoundTheList()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = TestData.Policy(hosts: ["ns2.corp:4443", "ns3.corp:4443"]);
        var first = kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!;

        kit.Ns.BackOff(first, "connection failed: refused");
        var second = kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!;
        var request = kit.Ns.Strategy.RouteForRequest();
        kit.Ns.BackOff(second, "connection lost");
        var third = kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!;

        first.HostAndPort.Should().Be("ns2.corp:4443");
        second.HostAndPort.Should().Be("ns3.corp:4443");
        second.Reason.Should().Contain("server host 2 of 2");
        request.HostAndPort.Should().Be("ns3.corp:4443", "HTTP requests follow the connection to the next node");
        third.HostAndPort.Should().Be("ns2.corp:4443");
        kit.Ns.State.ChannelNotBefore.Should().BeAfter(kit.Time.GetUtcNow(), "the next attempt still waits for the back-off");
    }

    [Fact]
    public void AFailure_WithOneServerHost_StaysWithIt()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = TestData.Policy(hosts: ["ns2.corp:4443"]);
        var route = kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!;

        kit.Ns.BackOff(route, "connection failed: refused");

        kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!.HostAndPort.Should().Be("ns2.corp:4443");
        kit.Agent.ServerHost.Should().Be(0);
    }

    [Fact]
    public void AFailureOfARouteAlreadyLeft_DoesNotSkipTheNextHost()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = TestData.Policy(hosts: ["ns2.corp:4443", "ns3.corp:4443", "ns4.corp:4443"]);
        var first = kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!;
        kit.Ns.BackOff(first, "connection failed: refused");

        kit.Ns.Strategy.OnFailure(first, "HTTP poll failed on the old route");

        kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!.HostAndPort.Should().Be("ns3.corp:4443");
    }

    [Fact]
    public void TheTaskServerConnection_DoesNotMoveTheNotificationServerConnection()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = TestData.Policy(hosts: ["ns2.corp:4443", "ns3.corp:4443"]);
        var route = kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!;

        kit.Ts.BackOff(route, "connection failed: refused");

        kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!.HostAndPort.Should().Be("ns2.corp:4443");
    }

    [Fact]
    public void CemTargets_AreThePolicysServerHosts()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = TestData.Policy(hosts: ["ns2.corp:4443", "ns3.corp:4443"]);
        var route = kit.Ns.Strategy.ChooseRoute(kit.Time.GetUtcNow())!;

        kit.Ns.Strategy.CemTargets(route).Should().Be("ns2.corp:4443;ns3.corp:4443");
    }

    [Fact]
    public void ADroppedChannel_SchedulesThePolicyRequestOneIntervalLater()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = TestData.Policy();
        var now = kit.Time.GetUtcNow();

        kit.Ns.Strategy.OnChannelDropped(now);

        kit.Agent.NextPolicyRefresh.Should().Be(now + TimeSpan.FromSeconds(120));
        kit.Ns.State.NextTaskPoll = now + TimeSpan.FromSeconds(300);
        kit.Ns.Strategy.NextHttpWork().Should().Be(now + TimeSpan.FromSeconds(120), "the earlier of the policy request and the task poll");
    }

    [Fact]
    public void UnknownAgent_ForgetsTheIdentity_SoTheLoopRegistersAgain()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Identity = TestData.State();

        kit.Ns.Strategy.OnUnknownAgent(new UnknownAgentException("403 unknown-agent")).Should().BeTrue();

        kit.Agent.Identity.Should().BeNull();
        kit.Agent.PreviousAgentId.Should().Be("a1");
        kit.Ts.Strategy.OnUnknownAgent(new UnknownAgentException("403 unknown-agent")).Should().BeFalse("the Task Server connection fails over instead");
    }
}
