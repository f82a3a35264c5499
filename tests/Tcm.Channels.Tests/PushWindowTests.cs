using Tcm.Channels.Delivery;
using static Tcm.Channels.Tests.DeliveryFakes;

namespace Tcm.Channels.Tests;

public sealed class PushWindowTests
{
    [Fact]
    public async Task PushesBeyondTheWindow_Wait_AndGoOutInOrder_AsAcknowledgementsFreeRoom()
    {
        var window = Window(capacity: 2);
        var (agent, channel) = await ConnectedAsync("a", window);

        window.Admit(agent.Store(1, 4), "action-1").Should().Be(2);
        (window.InFlight, window.Waiting, window.WaitingFor("action-1")).Should().Be((2L, 2, 2));
        channel.Payloads.Select(p => p[0]).Should().Equal(1, 2);

        agent.RaiseAckedSeq(1);
        window.Changed(agent);
        channel.Payloads.Select(p => p[0]).Should().Equal(1, 2, 3);
        agent.RaiseAckedSeq(3);
        window.Changed(agent);
        channel.Payloads.Select(p => p[0]).Should().Equal(1, 2, 3, 4);
        (window.InFlight, window.Waiting, window.WaitingFor("action-1")).Should().Be((1L, 0, 0));
    }

    [Fact]
    public async Task ANewerSession_ReSendsThroughTheWindow_InOrder_NotTwice_AndAnEndedChannelFreesItsRoom()
    {
        var window = Window(capacity: 1);
        var (a, first) = await ConnectedAsync("a", window);
        var (b, channelB) = await ConnectedAsync("b", window);
        window.Admit(a.Store(1, 2).Concat(b.Store(1, 1)), null).Should().Be(1);

        // Agent a reconnects: its stored pushes go to the newer channel through the window, after b's push that was waiting.
        var second = new RecordingChannel();
        await DeliveryEngine.StartSessionAsync(a, second, Welcome(), window, CancellationToken.None);
        (second.Payloads.Count, channelB.Payloads.Count, window.InFlight).Should().Be((0, 1, 1L), "b's push took the window's one place");

        b.RaiseAckedSeq(1);
        window.Changed(b);
        second.Payloads.Select(p => p[0]).Should().Equal(1);
        a.RaiseAckedSeq(1);
        window.Changed(a);
        second.Payloads.Select(p => p[0]).Should().Equal(1, 2);
        first.Payloads.Select(p => p[0]).Should().Equal([1], "the older channel got push 1 before it was replaced, and nothing after");
        (window.Waiting, window.InFlight).Should().Be((0, 1L));

        DeliveryEngine.EndSession(a, second, window);
        window.InFlight.Should().Be(0);
    }

    [Fact]
    public async Task AnAgentBackWithMoreStoredPushesThanItsShare_GetsThemAFewAtATime_InOrder_OnceEach_FreshPushesAfter()
    {
        var window = Window(capacity: 100, perChannel: 3);
        var agent = new SequencedAgent("a");
        _ = agent.Store(1, 10);
        var channel = new RecordingChannel();

        await DeliveryEngine.StartSessionAsync(agent, channel, Welcome(), window, CancellationToken.None);
        channel.Sent[0].Should().BeOfType<Tcm.Protocol.WelcomeMessage>();
        channel.Payloads.Select(p => p[0]).Should().Equal(1, 2, 3);
        window.Admit(agent.Store(11, 11), "fresh").Should().Be(0, "the agent still owes older pushes: the fresh one waits its turn");

        for (var acked = 3; acked < 11; acked = channel.Payloads[^1][0])
        {
            channel.Payloads.Count.Should().BeLessThanOrEqualTo(acked + 3, "never more than the agent's share unacknowledged");
            agent.RaiseAckedSeq(acked);
            window.Changed(agent);
        }

        channel.Payloads.Select(p => (int)p[0]).Should().Equal(Enumerable.Range(1, 11));
        window.Admit(agent.Store(12, 12), "fresher").Should().Be(1, "caught up: a fresh push goes out at once");
        channel.Payloads.Select(p => (int)p[0]).Should().Equal(Enumerable.Range(1, 12));
        (window.Waiting, window.InFlight).Should().Be((0, 3L));
    }

    private static async Task<(SequencedAgent Agent, RecordingChannel Channel)> ConnectedAsync(string id, PushWindow window)
    {
        var agent = new SequencedAgent(id);
        var channel = new RecordingChannel();
        await DeliveryEngine.StartSessionAsync(agent, channel, Welcome(), window, CancellationToken.None);
        return (agent, channel);
    }
}
