namespace Tcm.Agent.Tests.Connection;

public sealed class ConnectionStateTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Connected_ReturnsTheHttpReasonItReplaces_AndTheSnapshotIsPersistent()
    {
        using var kit = new ConnectionTestKit();
        var state = kit.Ts.State;
        state.SetHttpReason("reconnecting: connection lost").Should().BeTrue();

        state.Snapshot().Persistent.Should().BeFalse();
        using var channel = kit.NewChannel();
        var previous = state.Connected(channel, Now);

        previous.Should().Be("reconnecting: connection lost");
        var snapshot = state.Snapshot();
        snapshot.Persistent.Should().BeTrue();
        snapshot.HttpReason.Should().BeNull();
        snapshot.ConnectedSince.Should().Be(Now);
        state.Channel.Should().BeSameAs(channel);
    }

    [Fact]
    public void Disconnected_IsNoLongerPersistent()
    {
        using var kit = new ConnectionTestKit();
        kit.OpenChannel(kit.Ns);

        kit.Ns.State.Disconnected();

        kit.Ns.State.Channel.Should().BeNull();
        kit.Ns.State.Snapshot().Persistent.Should().BeFalse();
    }

    [Fact]
    public void RequestPolicyClose_WithoutAChannel_FlagsNothing()
    {
        var state = new ConnectionState();

        state.RequestPolicyClose().Should().BeNull();
        state.TakePolicyCloseRequested().Should().BeFalse();
    }

    [Fact]
    public void EndFlags_AreTakenOnce()
    {
        using var kit = new ConnectionTestKit();
        var state = kit.Ts.State;
        kit.OpenChannel(kit.Ts);
        state.RequestPolicyClose().Should().NotBeNull();
        state.RequestRouteChange();
        state.Terminate(Now.AddSeconds(60), "terminated: asked", closesChannel: true);

        state.TakePolicyCloseRequested().Should().BeTrue();
        state.TakePolicyCloseRequested().Should().BeFalse();
        state.TakeRouteChangeRequested().Should().BeTrue();
        state.TakeRouteChangeRequested().Should().BeFalse();
        state.TakeTerminateRequested().Should().BeTrue();
        state.TakeTerminateRequested().Should().BeFalse();
    }

    [Fact]
    public void ChannelAllowedAt_BlockedUntilPolicy_HasNoDueTime_ADelayHasOne()
    {
        var state = new ConnectionState { BlockedUntilPolicy = true };
        state.ChannelAllowedAt(Now, out var due).Should().BeFalse();
        due.Should().BeNull();

        state.BlockedUntilPolicy = false;
        state.ChannelNotBefore = Now.AddSeconds(3);
        state.ChannelAllowedAt(Now, out due).Should().BeFalse();
        due.Should().Be(Now.AddSeconds(3));
        state.ChannelAllowedAt(Now.AddSeconds(3), out _).Should().BeTrue();
    }

    [Fact]
    public void PrepareRouteChange_AllowsTheChannelAtOnce_AndFlagsAnOpenOne()
    {
        using var kit = new ConnectionTestKit();
        var state = kit.Ns.State;
        state.BlockedUntilPolicy = true;
        state.ChannelNotBefore = Now.AddMinutes(5);
        kit.OpenChannel(kit.Ns);

        state.PrepareRouteChange(Now).Should().NotBeNull();

        state.ChannelAllowedAt(Now, out _).Should().BeTrue();
        state.TakeRouteChangeRequested().Should().BeTrue();
    }

    [Fact]
    public void Stopped_IsUnreachable_OnHttp_BecauseStopped()
    {
        var state = new ConnectionState();
        state.SetReachable(true);

        state.Stopped();

        var snapshot = state.Snapshot();
        snapshot.Reachable.Should().BeFalse();
        snapshot.HttpReason.Should().Be("stopped");
    }
}
