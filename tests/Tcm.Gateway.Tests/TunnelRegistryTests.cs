using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Tests;

public sealed class TunnelRegistryTests
{
    [Fact]
    public void OnlyTunnelsIdleForLongerThanTheTimeout_AreCanceled()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var registry = new TunnelRegistry(clock);
        using var quietCancel = new CancellationTokenSource();
        using var busyCancel = new CancellationTokenSource();
        var quiet = registry.Open("ns1", quietCancel);
        var busy = registry.Open("ns1", busyCancel);

        clock.Advance(TimeSpan.FromSeconds(90));
        busy.Touch();
        clock.Advance(TimeSpan.FromSeconds(40));

        registry.CancelIdle(TimeSpan.FromMinutes(2)).Should().Be(1);
        quietCancel.IsCancellationRequested.Should().BeTrue();
        quiet.WasIdle.Should().BeTrue();
        busyCancel.IsCancellationRequested.Should().BeFalse();
        registry.CancelIdle(TimeSpan.FromMinutes(2)).Should().Be(0, "a tunnel is ended once");

        registry.Close(quiet);
        registry.Count.Should().Be(1);
    }
}
