using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Tests;

public sealed class HandshakeDeadlineTests
{
    [Fact]
    public void ABackendSilentPastTheDeadline_CancelsTheForwarder_AndReadsAsExpired()
    {
        var time = new FakeTimeProvider();
        using var stopping = new CancellationTokenSource();
        using var deadline = new HandshakeDeadline(TimeSpan.FromMinutes(2), time, stopping.Token);

        time.Advance(TimeSpan.FromSeconds(119));
        deadline.Token.IsCancellationRequested.Should().BeFalse();

        time.Advance(TimeSpan.FromSeconds(1));
        deadline.Token.IsCancellationRequested.Should().BeTrue();
        deadline.Expired.Should().BeTrue();
    }

    [Fact]
    public void AnOpenedTunnel_OutlivesTheDeadline()
    {
        var time = new FakeTimeProvider();
        using var stopping = new CancellationTokenSource();
        using var deadline = new HandshakeDeadline(TimeSpan.FromMinutes(2), time, stopping.Token);

        time.Advance(TimeSpan.FromSeconds(30));
        deadline.Disarm();
        time.Advance(TimeSpan.FromHours(3));

        deadline.Token.IsCancellationRequested.Should().BeFalse();
        deadline.Expired.Should().BeFalse();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheGatewayStopping_EndsTheTunnel_OpenedOrNot_AndIsNoTimeout(bool opened)
    {
        var time = new FakeTimeProvider();
        using var stopping = new CancellationTokenSource();
        using var deadline = new HandshakeDeadline(TimeSpan.FromMinutes(2), time, stopping.Token);
        if (opened)
        {
            deadline.Disarm();
        }

        stopping.Cancel();

        deadline.Token.IsCancellationRequested.Should().BeTrue();
        deadline.Expired.Should().BeFalse();
    }
}
