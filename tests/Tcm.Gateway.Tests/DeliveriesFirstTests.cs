using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Tests;

/// <summary>The order between tunnels (<see cref="DeliveriesFirst"/>); its use by a tunnel is in <c>AgentKeepAliveStreamTests</c>.</summary>
public sealed class DeliveriesFirstTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void WithNothingWrittenToAgents_AnAgentsMessageGoesAtOnce()
    {
        var first = new DeliveriesFirst(_time, TimeSpan.FromMilliseconds(250));

        first.WhenDeliveredAsync().IsCompleted.Should().BeTrue();
        first.Delivering();
        _time.Advance(DeliveriesFirst.Quiet);
        first.WhenDeliveredAsync().IsCompleted.Should().BeTrue("nothing was written to an agent for the quiet time");
    }

    [Fact]
    public void WhileMessagesGoToAgents_AnAgentsMessageWaits_UntilNoneWasWrittenForTheQuietTime()
    {
        var first = new DeliveriesFirst(_time, TimeSpan.FromMilliseconds(250));
        first.Delivering();

        var waiting = first.WhenDeliveredAsync();
        var second = first.WhenDeliveredAsync();
        _time.Advance(TimeSpan.FromMilliseconds(3));
        first.Delivering();
        _time.Advance(TimeSpan.FromMilliseconds(2));
        waiting.IsCompleted.Should().BeFalse("a message went to an agent 2 ms ago");

        _time.Advance(DeliveriesFirst.Quiet);
        waiting.IsCompleted.Should().BeTrue();
        second.IsCompleted.Should().BeTrue("one release serves every waiting message");
    }

    [Fact]
    public void UnderAnEndlessStreamOfMessagesToAgents_AnAgentsMessageWaitsNoLongerThanTheHold()
    {
        var first = new DeliveriesFirst(_time, TimeSpan.FromMilliseconds(20));
        first.Delivering();
        var waiting = first.WhenDeliveredAsync();

        for (var ms = 1; ms < 20; ms++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            first.Delivering();
            waiting.IsCompleted.Should().BeFalse("{0} ms of the 20 ms hold passed", ms);
        }

        _time.Advance(TimeSpan.FromMilliseconds(1));
        waiting.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public void AHoldOfZero_NeverHolds()
    {
        var first = new DeliveriesFirst(_time, TimeSpan.Zero);
        first.Delivering();

        first.WhenDeliveredAsync().IsCompleted.Should().BeTrue();
    }
}
