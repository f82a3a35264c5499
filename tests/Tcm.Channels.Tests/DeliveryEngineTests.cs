using static Tcm.Channels.Tests.DeliveryFakes;
using Tcm.Channels.Delivery;
using Tcm.Protocol;

namespace Tcm.Channels.Tests;

public sealed class DeliveryEngineTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AHeldAgent_DoesNotHoldUpAnotherAgentsPush()
    {
        var (a, b) = (new SequencedAgent("a"), new SequencedAgent("b"));
        await a.Gate.WaitAsync();

        using (var lease = await DeliveryEngine.EnterAsync([b], x => x.Id, CancellationToken.None).AsTask().WaitAsync(Deadline))
        {
            lease.Agents.Should().Equal(b);
        }

        var waiting = DeliveryEngine.EnterAsync([a, b], x => x.Id, CancellationToken.None).AsTask();
        waiting.IsCompleted.Should().BeFalse("agent a's gate is held");
        a.Gate.Release();
        (await waiting.WaitAsync(Deadline)).Dispose();
        (a.Gate.CurrentCount, b.Gate.CurrentCount).Should().Be((1, 1));
    }

    [Fact]
    public async Task FanOuts_EnterGatesInIdOrder_SoOppositeOrdersCannotDeadlock()
    {
        var agents = Enumerable.Range(0, 50).Select(i => new SequencedAgent($"agent-{i:00}")).ToArray();
        var runs = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            var order = i % 2 == 0 ? agents.ToArray() : agents.Reverse().ToArray();
            using var lease = await DeliveryEngine.EnterAsync(order, x => x.Id, CancellationToken.None);
            lease.Agents.Select(x => x.Id).Should().BeInAscendingOrder(StringComparer.Ordinal);
            await Task.Yield();
        }));

        await Task.WhenAll(runs).WaitAsync(Deadline);
        agents.Should().OnlyContain(x => x.Gate.CurrentCount == 1);
    }

    [Fact]
    public async Task StartSession_SendsTheWelcome_ThenEveryPushAfterTheAck_ThenLetsFreshPushesThrough()
    {
        var window = Window(capacity: 10);
        var agent = new SequencedAgent("a", ackedSeq: 1);
        window.Admit(agent.Store(1, 3).Skip(1), null).Should().Be(0, "no session yet");
        var channel = new RecordingChannel();

        var replaced = await DeliveryEngine.StartSessionAsync(agent, channel, Welcome(), window, CancellationToken.None);

        replaced.Should().BeNull();
        channel.Sent.Should().HaveCount(3);
        channel.Sent[0].Should().BeOfType<WelcomeMessage>();
        channel.Payloads.Select(p => p[0]).Should().Equal(2, 3);
        channel.Ready.Should().BeTrue();
        window.Admit(agent.Store(4, 4), null).Should().Be(1);
        channel.Payloads.Last().Should().Equal(4);
    }

    [Fact]
    public async Task ANewerSession_ReplacesTheOlder_AndTheOlderEndingDoesNotDetachIt()
    {
        var window = Window(capacity: 10);
        var agent = new SequencedAgent("a");
        var (older, newer) = (new RecordingChannel(), new RecordingChannel());
        await DeliveryEngine.StartSessionAsync(agent, older, Welcome(), window, CancellationToken.None);

        (await DeliveryEngine.StartSessionAsync(agent, newer, Welcome(), window, CancellationToken.None)).Should().BeSameAs(older);
        agent.DetachChannel(older).Should().BeFalse();
        agent.Channel.Should().BeSameAs(newer);
        agent.DetachChannel(newer).Should().BeTrue();
        agent.Channel.Should().BeNull();
    }

    [Fact]
    public void Acks_AreCumulative_NeverBackwards_NeverPastTheLastPush()
    {
        var agent = new SequencedAgent("a", nextSeq: 6, ackedSeq: 2);
        agent.RaiseAckedSeq(1).Should().Be(-1);
        agent.RaiseAckedSeq(4).Should().Be(2);
        agent.RaiseAckedSeq(4).Should().Be(-1);
        agent.RaiseAckedSeq(100).Should().Be(4);
        agent.AckedSeq.Should().Be(5);
        agent.PendingPushes.Should().Be(0);
    }

    [Fact]
    public void HandOut_DecodesTheStoredPushesInOrder()
    {
        var pushes = DeliveryEngine.HandOut([MessageCodec.Encode(new TaskPushMessage { Seq = 2, TaskId = "t2", Command = "echo" }), MessageCodec.Encode(new TaskPushMessage { Seq = 3, TaskId = "t3", Command = "echo" })]);
        pushes.Items.Cast<TaskPushMessage>().Select(p => p.Seq).Should().Equal(2, 3);
    }
}
