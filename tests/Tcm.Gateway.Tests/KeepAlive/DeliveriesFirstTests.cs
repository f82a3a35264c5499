using System.Text;
using Tcm.Gateway.KeepAlive;
using Tcm.Gateway.Relay;
using Tcm.Testing;
using static Tcm.Gateway.Tests.KeepAlive.WebSocketFrames;

namespace Tcm.Gateway.Tests.KeepAlive;

public sealed class DeliveriesFirstTests
{
    private static readonly byte[] Result = FromAgent(0x1, Encoding.UTF8.GetBytes("{\"kind\":\"task.result\"}"));
    private static readonly byte[] Push = FromServer(0x1, Encoding.UTF8.GetBytes("{\"kind\":\"task.push\"}"));
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedStream _agent = new();

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

    [Fact]
    public async Task AnAgentsDataFrame_WaitsForThePushesBeingWritten_WhileItsPingIsAnsweredAtOnce()
    {
        var first = new DeliveriesFirst(_time, TimeSpan.FromMilliseconds(250));
        using var stream = new AgentKeepAliveStream(_agent, TimeSpan.FromMinutes(5), _time) { DeliveriesFirst = first };
        await stream.WriteAsync(Push);
        _agent.Send([.. Ping(), .. Result]);

        var read = stream.ReadAsync(new byte[256]).AsTask();
        await Eventually.WaitAsync(() => Task.FromResult(_agent.Written.Length), n => n == Push.Length + Pong().Length, Eventually.DefaultDeadline, "the ping answered");
        read.IsCompleted.Should().BeFalse("a push was written to an agent less than the quiet time ago");

        _time.Advance(DeliveriesFirst.Quiet);
        var count = await read.WaitAsync(Eventually.DefaultDeadline);
        count.Should().Be(Result.Length);
        _agent.Written.Should().Equal([.. Push, .. Pong()]);
    }

    [Fact]
    public async Task AnAgentsCloseFrame_NeverWaits()
    {
        var first = new DeliveriesFirst(_time, TimeSpan.FromMilliseconds(250));
        using var stream = new AgentKeepAliveStream(_agent, TimeSpan.FromMinutes(5), _time) { DeliveriesFirst = first };
        await stream.WriteAsync(Push);
        var close = FromAgent(0x8, [0x03, 0xE8]);
        _agent.Send(close);

        var buffer = new byte[64];
        var count = await stream.ReadAsync(buffer).AsTask().WaitAsync(Eventually.DefaultDeadline);

        buffer[..count].Should().Equal(close);
    }
}
