using System.Security.Cryptography.X509Certificates;
using Tcm.Agent.Routing;

namespace Tcm.Agent.Tests.Connection;

public sealed class ConnectionLoopTests
{
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task PolicyTurningTheChannelOff_ClosesTheTaskServerChannel_WhichTheTaskServerWouldNotClose(bool tcm, bool persistent)
    {
        using var kit = new ConnectionTestKit();
        var channel = await kit.OpenChannelThenPushPolicyAsync(kit.Ts, TestData.Policy(tcm: true), TestData.Policy(etag: "off", tcm: tcm, persistent: persistent));

        channel.Socket.State.Should().Be(WebSocketState.CloseSent);
        kit.Ts.State.TakePolicyCloseRequested().Should().BeTrue("the channel's end is classified as closed by policy, not as a Task Server failure");
    }

    [Fact]
    public async Task TaskServerThatIgnoresTheAgentsClose_IsCutOffAfterTheGrace()
    {
        using var kit = new ConnectionTestKit();
        var channel = await kit.OpenChannelThenPushPolicyAsync(kit.Ts, TestData.Policy(tcm: true), TestData.Policy(etag: "off", tcm: false));
        await Eventually.WaitAsync(() => kit.Time.ActiveTimers > 0, TimeSpan.FromSeconds(10), "the grace timer to be armed");

        kit.Time.Advance(TimeSpan.FromSeconds(4));
        channel.Socket.State.Should().Be(WebSocketState.CloseSent, "the server still has time to answer");
        kit.Time.Advance(TimeSpan.FromSeconds(1));

        await Eventually.WaitAsync(() => channel.Socket.State == WebSocketState.Aborted, TimeSpan.FromSeconds(10), "the socket to be cut off");
    }

    [Fact]
    public async Task PolicyTurningTcmOff_LeavesTheNotificationServerChannelForTheServerToClose()
    {
        using var kit = new ConnectionTestKit();
        var channel = await kit.OpenChannelThenPushPolicyAsync(kit.Ns, TestData.Policy(tcm: true), TestData.Policy(etag: "off", tcm: false));

        channel.Socket.State.Should().Be(WebSocketState.Open, "the NS closes it with its own reason (tcm-disabled), which the agent classifies");
        kit.Ns.State.TakePolicyCloseRequested().Should().BeFalse();
    }

    [Fact]
    public async Task PolicyAllowingTheChannel_KeepsItOpen_AndLetsARefusedChannelBeTriedAgain()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = TestData.Policy(tcm: true);
        var channel = kit.OpenChannel(kit.Ts);
        kit.Ns.State.BlockedUntilPolicy = true;

        await kit.Agent.ApplyPolicyAsync(TestData.Policy(etag: "next", tcm: true), "policy request", CancellationToken.None);

        channel.Socket.State.Should().Be(WebSocketState.Open);
        kit.Ns.State.BlockedUntilPolicy.Should().BeFalse();
        kit.Ns.ChannelWanted(kit.Time.GetUtcNow(), out var reason, out _).Should().BeTrue();
        reason.Should().BeNull();
    }

    [Fact]
    public void ChannelWanted_WithTcmOff_IsFalseForBothConnections_AndSaysWhy()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = TestData.Policy(tcm: false);

        foreach (var loop in new[] { kit.Ns, kit.Ts })
        {
            loop.ChannelWanted(kit.Time.GetUtcNow(), out var reason, out var due).Should().BeFalse();
            reason.Should().StartWith(CloseReasons.TcmDisabled);
            due.Should().BeNull();
        }
    }

    [Theory]
    [InlineData(false, true, CloseReasons.TcmDisabled)]
    [InlineData(false, false, CloseReasons.TcmDisabled)]
    [InlineData(true, false, CloseReasons.NotTargeted)]
    [InlineData(true, true, null)]
    public void PolicyRefusal_NamesTheSettingThatTurnsTheChannelOff(bool tcm, bool persistent, string? code)
    {
        var reason = ConnectionLoop.PolicyRefusal(TestData.Policy(tcm: tcm, persistent: persistent));

        if (code is null)
        {
            reason.Should().BeNull();
        }
        else
        {
            reason.Should().StartWith($"{code}: ");
        }
    }

    [Fact]
    public void PolicyRefusal_WithoutAPolicy_IsTcmOff()
    {
        ConnectionLoop.PolicyRefusal(null).Should().StartWith(CloseReasons.TcmDisabled);
    }

    [Fact]
    public void ChannelWanted_DuringABackOff_IsFalse_WithItsDueTime_AndKeepsTheShownReason()
    {
        using var kit = new ConnectionTestKit();
        kit.Agent.Policy = TestData.Policy();
        var due = kit.Time.GetUtcNow() + TimeSpan.FromSeconds(5);
        kit.Ts.State.ChannelNotBefore = due;

        kit.Ts.ChannelWanted(kit.Time.GetUtcNow(), out var reason, out var when).Should().BeFalse();

        reason.Should().BeNull();
        when.Should().Be(due);
    }

    [Fact]
    public void BackOff_WithABusyServersHint_WaitsAtLeastTheHint_PlusTheBackOffsJitter()
    {
        using var kit = new ConnectionTestKit();
        var route = new AgentRoute(ConnectionMode.Direct, new Uri("https://ns.corp:4443/"), "test");
        var now = kit.Time.GetUtcNow();
        var hint = TimeSpan.FromSeconds(7);

        kit.Ns.BackOff(route, "server-busy: try later", hint);

        var wait = kit.Ns.State.ChannelNotBefore - now;
        wait.Should().BeGreaterThanOrEqualTo(hint);
        wait.Should().BeLessThanOrEqualTo(hint + kit.Ns.Backoff.Ceiling(0));
        kit.Ns.Backoff.Attempt.Should().Be(1, "the hint adds to the back-off, which still grows");
    }

    [Fact]
    public async Task OwnHandler_IsBuiltAtFirstUse_KeptForTheIdentity_AndBuiltAgainForANewOne()
    {
        using var kit = new ConnectionTestKit();
        var route = new AgentRoute(ConnectionMode.Direct, new Uri("https://ns.corp:4443"), "test");
        kit.Agent.Identity = NewIdentity("a1");
        kit.Agent.ResetTransports();
        kit.Ns.HasOwnTransport.Should().BeFalse("nothing was sent yet");

        var first = kit.Ns.TransportFor(route);
        kit.Ns.TransportFor(route).Should().BeSameAs(first);
        kit.Ts.HasOwnTransport.Should().BeFalse("a connection that never calls its server holds no handler");

        kit.Agent.Identity = NewIdentity("a2");
        kit.Agent.ResetTransports();
        kit.Ns.HasOwnTransport.Should().BeFalse("the old identity's handler is released");
        kit.Ns.TransportFor(route).Should().NotBeSameAs(first);
        await first.Invoking(t => t.Invoker.SendAsync(new System.Net.Http.HttpRequestMessage(), CancellationToken.None))
            .Should().ThrowAsync<ObjectDisposedException>();
    }

    private static Tcm.Agent.State.AgentState NewIdentity(string agentId)
    {
        using var ca = TestCertificates.Ca();
        using var client = TestCertificates.Issue(ca, $"CN={agentId}");
        using var key = client.GetECDsaPrivateKey()!;
        return new Tcm.Agent.State.AgentState
        {
            AgentId = agentId,
            ClientCertificatePem = client.ExportCertificatePem(),
            PrivateKeyPem = key.ExportPkcs8PrivateKeyPem(),
            CaCertificatePem = ca.ExportCertificatePem(),
        };
    }
}
