using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Tests;

public sealed class HandshakeDeadlineTests
{
    [Fact]
    public void ABackendSilentPastTheDeadline_CancelsTheForwarder_AndReadsAsExpired()
    {
        using var opening = new Opening(TimeSpan.FromMinutes(2));

        opening.Time.Advance(TimeSpan.FromSeconds(119));
        opening.Deadline.Token.IsCancellationRequested.Should().BeFalse();

        opening.Time.Advance(TimeSpan.FromSeconds(1));
        opening.Deadline.Token.IsCancellationRequested.Should().BeTrue();
        opening.Deadline.Expired.Should().BeTrue();
    }

    [Fact]
    public void AnOpenedTunnel_OutlivesTheDeadline()
    {
        using var opening = new Opening(TimeSpan.FromMinutes(2));

        opening.Time.Advance(TimeSpan.FromSeconds(30));
        opening.Deadline.Disarm();
        opening.Time.Advance(TimeSpan.FromHours(3));

        opening.Deadline.Token.IsCancellationRequested.Should().BeFalse();
        opening.Deadline.Expired.Should().BeFalse();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheGatewayStopping_EndsTheTunnel_OpenedOrNot_AndIsNoTimeout(bool opened)
    {
        using var opening = new Opening(TimeSpan.FromMinutes(2));
        if (opened)
        {
            opening.Deadline.Disarm();
        }

        opening.Stopping.Cancel();

        opening.Deadline.Token.IsCancellationRequested.Should().BeTrue();
        opening.Deadline.Expired.Should().BeFalse();
    }

    /// <summary>A tunnel's opening: its deadline on a fake clock, and the gateway's stopping token.</summary>
    private sealed class Opening : IDisposable
    {
        public Opening(TimeSpan timeout) => Deadline = new HandshakeDeadline(timeout, Time, Stopping.Token);

        public FakeTimeProvider Time { get; } = new();

        public CancellationTokenSource Stopping { get; } = new();

        public HandshakeDeadline Deadline { get; }

        public void Dispose()
        {
            Deadline.Dispose();
            Stopping.Dispose();
        }
    }
}
