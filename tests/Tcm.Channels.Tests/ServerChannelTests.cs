using Microsoft.Extensions.Time.Testing;
using System.Net.WebSockets;
using System.Text;
using Tcm.Channels.Framing;
using Tcm.Protocol;
using Tcm.Testing;

namespace Tcm.Channels.Tests;

public sealed class ServerChannelTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Sends_LeaveInTheOrderQueued_NeverTwoAtATime()
    {
        var socket = new ScriptedWebSocket { HoldSends = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        var channel = new TestChannel(socket);

        for (var i = 1; i <= 5; i++)
        {
            channel.SendPayload(Encoding.UTF8.GetBytes($"m{i}"), offload: i % 2 == 0);
        }

        socket.HoldSends.SetResult();
        await Eventually.WaitAsync(() => socket.Sent.Count, n => n == 5, Deadline, "five sends");
        socket.Sent.Should().Equal("m1", "m2", "m3", "m4", "m5");
        socket.MostSendsInFlight.Should().Be(1);
    }

    [Fact]
    public async Task BeginClose_QueuesTheErrorAndTheCloseAfterWhatWasQueued_AndSendsNothingAfterTheClose()
    {
        var socket = new ScriptedWebSocket { HoldSends = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        var channel = new TestChannel(socket);
        channel.SendPayload("first"u8.ToArray());
        channel.BeginClose(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, "because", sendError: true);
        channel.SendPayload("late"u8.ToArray());
        channel.BeginClose(WebSocketCloseStatus.NormalClosure, CloseReasons.Replaced, "second close is ignored");

        socket.HoldSends.SetResult();
        await socket.CloseSent.Task.WaitAsync(Deadline);
        socket.Sent.Should().HaveCount(2);
        socket.Sent[0].Should().Be("first");
        MessageCodec.Decode(Encoding.UTF8.GetBytes(socket.Sent[1])).Message.Should().BeOfType<ErrorMessage>()
            .Which.Should().Match<ErrorMessage>(e => e.Fatal && e.Code == CloseReasons.ProtocolViolation);
        socket.SentCloseStatus.Should().Be(WebSocketCloseStatus.PolicyViolation);
        socket.SentCloseDescription.Should().Be("protocol-violation: because");
        channel.IsClosing.Should().BeTrue();
    }

    [Theory]
    [InlineData("{\"kind\":\"ack\"", WebSocketCloseStatus.InvalidPayloadData, CloseReasons.Malformed)]
    [InlineData("{\"kind\":\"nonsense\"}", WebSocketCloseStatus.PolicyViolation, CloseReasons.UnknownKind)]
    [InlineData("{\"kind\":\"ack\",\"padding\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", WebSocketCloseStatus.MessageTooBig, CloseReasons.TooLarge)]
    public async Task ABadMessage_ClosesWithTheStatusOfTheOneTable(string text, WebSocketCloseStatus status, string code)
    {
        var socket = new ScriptedWebSocket();
        var channel = new TestChannel(socket, maxMessageBytes: 64);
        var run = channel.RunAsync();
        socket.PeerSends(Encoding.UTF8.GetBytes(text));

        await socket.CloseSent.Task.WaitAsync(Deadline);
        socket.SentCloseStatus.Should().Be(status);
        socket.SentCloseDescription.Should().StartWith(code + ": ");
        channel.Faults.Should().ContainSingle().Which.Code.Should().Be(code);
        socket.PeerCloses();
        await run.WaitAsync(Deadline);
        channel.Handled.Should().BeEmpty();
    }

    [Fact]
    public async Task ABinaryFrame_ClosesWithInvalidMessageType()
    {
        var socket = new ScriptedWebSocket();
        var channel = new TestChannel(socket);
        var run = channel.RunAsync();
        socket.PeerSends([1, 2, 3], WebSocketMessageType.Binary);

        await socket.CloseSent.Task.WaitAsync(Deadline);
        socket.SentCloseStatus.Should().Be(WebSocketCloseStatus.InvalidMessageType);
        socket.SentCloseDescription.Should().StartWith(CloseReasons.BinaryNotSupported);
        socket.PeerCloses();
        await run.WaitAsync(Deadline);
    }

    [Fact]
    public async Task Messages_AreHandedOverWhole_AndThePeersCloseIsAnswered()
    {
        var socket = new ScriptedWebSocket();
        var channel = new TestChannel(socket);
        var run = channel.RunAsync();
        socket.PeerSends(MessageCodec.Encode(new AckMessage { UpToSeq = 7 }));
        socket.PeerCloses();

        await run.WaitAsync(Deadline);
        channel.Handled.Should().ContainSingle().Which.Should().BeOfType<AckMessage>().Which.UpToSeq.Should().Be(7);
        socket.SentCloseStatus.Should().Be(WebSocketCloseStatus.NormalClosure);
        socket.Aborted.Should().BeFalse();
    }

    [Fact]
    public void APeerThatIgnoresOurClose_IsAbortedPastTheDeadline_NotBefore()
    {
        var socket = new ScriptedWebSocket();
        var channel = new TestChannel(socket);
        channel.BeginClose(WebSocketCloseStatus.NormalClosure, CloseReasons.Replaced, "newer");
        var deadline = channel.CloseDeadlineMs;
        deadline.Should().BeGreaterThan(0);

        channel.CheckDeadlines(deadline, TimeSpan.FromSeconds(10));
        socket.Aborted.Should().BeFalse();
        channel.CheckDeadlines(deadline + 1, TimeSpan.FromSeconds(10));
        socket.Aborted.Should().BeTrue();
    }

    [Fact]
    public async Task NoHelloInTime_ClosesWithHelloTimeout()
    {
        var socket = new ScriptedWebSocket();
        var channel = new TestChannel(socket);

        channel.CheckDeadlines(channel.OpenedAtMs + 10_000, TimeSpan.FromSeconds(10));
        channel.IsClosing.Should().BeFalse();
        channel.CheckDeadlines(channel.OpenedAtMs + 10_001, TimeSpan.FromSeconds(10));

        await socket.CloseSent.Task.WaitAsync(Deadline);
        socket.SentCloseStatus.Should().Be(WebSocketCloseStatus.PolicyViolation);
        socket.SentCloseDescription.Should().Be("hello-timeout: no hello within 10 s");
    }

    [Fact]
    public async Task AnAgentSilentForLongerThanTheLimit_IsClosedWithKeepAliveTimeout_AndEveryReadRestartsTheSilence()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        using var heard = new HeardStream(new MemoryStream(new byte[16]), clock);
        var socket = new ScriptedWebSocket();
        var channel = new TestChannel(socket) { Heard = heard, SilenceLimit = TimeSpan.FromSeconds(60) };
        channel.Activate().Should().BeTrue();
        var helloTimeout = TimeSpan.FromSeconds(10);

        clock.Advance(TimeSpan.FromSeconds(50));
        await heard.ReadExactlyAsync(new byte[4]);
        clock.Advance(TimeSpan.FromSeconds(60));
        channel.CheckDeadlines(clock.GetUtcNow().ToUnixTimeMilliseconds(), helloTimeout);
        channel.IsClosing.Should().BeFalse("the read 60 s ago (a ping) restarted the silence");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        channel.CheckDeadlines(clock.GetUtcNow().ToUnixTimeMilliseconds(), helloTimeout);

        await socket.CloseSent.Task.WaitAsync(Deadline);
        socket.SentCloseStatus.Should().Be(WebSocketCloseStatus.PolicyViolation);
        socket.SentCloseDescription.Should().StartWith(CloseReasons.KeepAliveTimeout + ": nothing heard for 60 s");
        socket.Sent.Should().BeEmpty("a silent agent gets the close, not an error message first");
    }

    [Fact]
    public void AChannelNotListenedUnder_IsNeverClosedForSilence()
    {
        var channel = new TestChannel(new ScriptedWebSocket());
        channel.Activate().Should().BeTrue();

        channel.CheckDeadlines(channel.OpenedAtMs + (long)TimeSpan.FromDays(1).TotalMilliseconds, TimeSpan.FromSeconds(10));

        channel.IsClosing.Should().BeFalse("the server pings such a channel itself (an agent that announced no keep-alive)");
    }

    private sealed class TestChannel(WebSocket socket, int maxMessageBytes = 4096)
        : ServerChannel(socket, "0123456789abcdef", new ServerChannelSettings(TimeProvider.System, maxMessageBytes, TimeSpan.FromSeconds(5)))
    {
        public List<Message> Handled { get; } = [];

        public List<ChannelFault> Faults { get; } = [];

        public Task RunAsync() => ReceiveLoopAsync(CancellationToken.None);

        public bool Activate() => TryActivate();

        protected override ValueTask OnMessageAsync(Message message, int bytes)
        {
            Handled.Add(message);
            return ValueTask.CompletedTask;
        }

        protected override void OnFaulted(ChannelFault fault) => Faults.Add(fault);

        protected override void OnVanished(string error)
        {
        }

        protected override void OnProtocolError(string detail)
        {
        }

        protected override void OnSendFailed(string error)
        {
        }
    }
}
