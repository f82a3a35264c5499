using Tcm.Channels.Delivery;
using static Tcm.Channels.Tests.DeliveryFakes;

namespace Tcm.Channels.Tests;

public sealed class PushWindowTests
{
    [Fact]
    public async Task PushesBeyondTheWindow_Wait_AndGoOutInOrder_AsAcknowledgementsFreeRoom()
    {
        var window = new PushWindow(capacity: 2);
        var (agent, channel) = await ConnectedAsync("a");

        window.Admit(Numbered(agent, 1, 4), "action-1").Should().Be(2);
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
    public async Task AWaitingPush_ResentByANewerSession_IsNotSentAgain_AndAnEndedChannelFreesItsRoom()
    {
        var window = new PushWindow(capacity: 1);
        var (a, first) = await ConnectedAsync("a", nextSeq: 3);
        var (b, channelB) = await ConnectedAsync("b", nextSeq: 2);
        window.Admit(Numbered(a, 1, 2).Concat(Numbered(b, 1, 1)), null).Should().Be(1);

        // Agent a reconnects: the newer session re-sends everything after its acknowledgement, the waiting push included.
        var second = new RecordingChannel();
        await DeliveryEngine.StartSessionAsync(a, second, Welcome(), _ => [[1], [2]], CancellationToken.None, window);
        window.InFlight.Should().Be(2, "the re-sent pushes are in flight on the newer channel");

        a.RaiseAckedSeq(2);
        window.Changed(a);
        (first.Payloads.Count, second.Payloads.Count).Should().Be((1, 2), "push 2 went out with the session start, not again from the window");
        channelB.Payloads.Select(p => p[0]).Should().Equal(1);
        (window.Waiting, window.InFlight).Should().Be((0, 1L));

        DeliveryEngine.EndSession(b, channelB, window);
        window.InFlight.Should().Be(0);
    }

    private static async Task<(SequencedAgent Agent, RecordingChannel Channel)> ConnectedAsync(string id, long nextSeq = 5)
    {
        var agent = new SequencedAgent(id);
        var channel = new RecordingChannel();
        await DeliveryEngine.StartSessionAsync(agent, channel, Welcome(), _ => [], CancellationToken.None);
        agent.NextSeq = nextSeq;
        return (agent, channel);
    }

    private static IEnumerable<(PushSequence, long, byte[])> Numbered(SequencedAgent agent, int from, int to) =>
        Enumerable.Range(from, to - from + 1).Select(seq => ((PushSequence)agent, (long)seq, new[] { (byte)seq }));
}
