using System.Text;
using System.Threading.Channels;
using Tcm.Channels.Framing;

namespace Tcm.Agent.Tests;

public sealed class AgentChannelTests : IDisposable
{
    private static readonly TimeSpan Hold = TimeSpan.FromMilliseconds(500);
    private readonly FakeTimeProvider _time = new();
    private readonly WebSocket _server;
    private readonly AgentChannel _channel;

    public AgentChannelTests()
    {
        var (a, b) = InMemoryDuplex.CreatePair();
        _server = WebSocket.CreateFromStream(a, new WebSocketCreationOptions { IsServer = true, SubProtocol = ProtocolConstants.SubProtocol });
        _channel = new AgentChannel(WebSocket.CreateFromStream(b, new WebSocketCreationOptions { IsServer = false, SubProtocol = ProtocolConstants.SubProtocol }), _time, maxMessageBytes: 64 * 1024);
    }

    public void Dispose()
    {
        _channel.Dispose();
        _server.Dispose();
    }

    [Fact]
    public async Task Receive_AWholeMessage_LargerThanTheFirstBuffer()
    {
        var push = TestData.Task(1, "t1", "echo", new Dictionary<string, string> { ["text"] = new string('x', 20_000) });
        await SendFromServerAsync(MessageCodec.Encode(push), fragments: 5);

        var received = await _channel.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        received.Should().BeOfType<TaskPushMessage>().Which.Parameters!["text"].Should().HaveLength(20_000);
    }

    [Fact]
    public async Task Receive_OverTheLimit_ThrowsMessageTooBig()
    {
        await SendFromServerAsync(Encoding.UTF8.GetBytes("{\"kind\":\"ack\",\"pad\":\"" + new string('x', 70_000) + "\"}"), fragments: 20);

        var act = () => _channel.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        (await act.Should().ThrowAsync<ChannelProtocolException>()).Which.CloseStatus.Should().Be(WebSocketCloseStatus.MessageTooBig);
    }

    [Fact]
    public async Task Receive_Binary_ThrowsInvalidMessageType()
    {
        await _server.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);

        var act = () => _channel.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        (await act.Should().ThrowAsync<ChannelProtocolException>()).Which.Message.Should().StartWith(CloseReasons.BinaryNotSupported);
    }

    [Theory]
    [InlineData("not json", CloseReasons.Malformed, WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("{\"kind\":\"teleport\"}", CloseReasons.UnknownKind, WebSocketCloseStatus.PolicyViolation)]
    public async Task Receive_Undecodable_ThrowsWithTheCloseReason(string text, string reason, WebSocketCloseStatus status)
    {
        await SendFromServerAsync(Encoding.UTF8.GetBytes(text), fragments: 1);

        var act = () => _channel.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        var thrown = (await act.Should().ThrowAsync<ChannelProtocolException>()).Which;
        thrown.Message.Should().StartWith(reason);
        thrown.CloseStatus.Should().Be(status);
    }

    [Fact]
    public async Task Receive_ServerCloses_ReturnsNull()
    {
        await _server.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "tcm-disabled: off", CancellationToken.None);

        var received = await _channel.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        received.Should().BeNull();
        _channel.CloseStatusDescription.Should().Be("tcm-disabled: off");
    }

    [Fact]
    public async Task Request_IsCorrelatedWithItsResponse()
    {
        var request = _channel.RequestAsync("GET", TcmPaths.Policy, null, null, TimeSpan.FromSeconds(30), CancellationToken.None);
        var sent = (ProtocolHttpRequest)(await ReceiveOnServerAsync());
        sent.Path.Should().Be(TcmPaths.Policy);

        _channel.Complete(new ProtocolHttpResponse { Id = sent.Id + 100, Status = 500 }).Should().BeFalse("nobody waits for that id");
        _channel.Complete(new ProtocolHttpResponse { Id = sent.Id, Status = 304 }).Should().BeTrue();

        (await request.WaitAsync(TimeSpan.FromSeconds(10))).Status.Should().Be(304);
    }

    [Fact]
    public async Task Request_ChannelDrops_FailsFast()
    {
        var request = _channel.RequestAsync("GET", TcmPaths.Policy, null, null, TimeSpan.FromSeconds(30), CancellationToken.None);
        await ReceiveOnServerAsync();

        _channel.FailPending("dropped");

        await request.Invoking(r => r.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<AgentChannelClosedException>();
        await _channel.Invoking(c => c.RequestAsync("GET", "/x", null, null, TimeSpan.FromSeconds(30), CancellationToken.None))
            .Should().ThrowAsync<AgentChannelClosedException>("a closed channel takes no new requests");
    }

    [Fact]
    public async Task Request_NoAnswer_TimesOutOnTheAgentsClock()
    {
        var request = _channel.RequestAsync("GET", TcmPaths.Policy, null, null, TimeSpan.FromSeconds(30), CancellationToken.None);
        await ReceiveOnServerAsync();

        _time.Advance(TimeSpan.FromSeconds(30));

        await request.Invoking(r => r.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<TimeoutException>();
    }

    [Fact]
    public async Task Send_TooLarge_IsRefusedLocally()
    {
        _channel.MaxMessageBytes = 100;

        await _channel.Invoking(c => c.SendAsync(TestData.Result("t1") with { Output = new string('x', 200) }, CancellationToken.None).AsTask())
            .Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task Sends_FromManyCallersAtOnce_LeaveInTheOrderEachQueuedThem()
    {
        const int Senders = 6;
        const int PerSender = 20;

        var sends = Enumerable.Range(0, Senders).Select(s => Task.Run(() => Task.WhenAll(
            Enumerable.Range(0, PerSender).Select(i => _channel.SendAsync(new AckMessage { UpToSeq = (s * 1000) + i }, CancellationToken.None).AsTask())))).ToList();
        var received = new List<long>();
        for (var n = 0; n < Senders * PerSender; n++)
        {
            received.Add(((AckMessage)await ReceiveOnServerAsync()).UpToSeq ?? -1);
        }

        await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(10));
        for (var s = 0; s < Senders; s++)
        {
            received.Where(seq => seq / 1000 == s).Should().Equal(Enumerable.Range(0, PerSender).Select(i => (long)((s * 1000) + i)));
        }
    }

    [Fact]
    public async Task Close_TheServerIgnores_IsAbortedAfterTheGrace_OnTheAgentsClock()
    {
        await _channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "agent stopping", CancellationToken.None);
        _channel.Socket.State.Should().Be(WebSocketState.CloseSent);

        _time.Advance(AgentChannel.CloseGrace - TimeSpan.FromMilliseconds(1));
        _channel.Socket.State.Should().Be(WebSocketState.CloseSent, "the server still has time to answer");
        _time.Advance(TimeSpan.FromMilliseconds(1));

        _channel.Socket.State.Should().Be(WebSocketState.Aborted);
        await _channel.Invoking(c => c.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)))
            .Should().ThrowAsync<Exception>("the receive loop ends once the socket is cut off");
    }

    [Fact]
    public async Task Close_TheServerAnswers_EndsTheHandshake_WithoutAnAbort()
    {
        var close = _channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "terminated: closing as asked", CancellationToken.None);
        var buffer = new byte[256];
        var atServer = await _server.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        atServer.MessageType.Should().Be(WebSocketMessageType.Close);
        _server.CloseStatusDescription.Should().Be("terminated: closing as asked");
        await _server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await close.WaitAsync(TimeSpan.FromSeconds(10));

        (await _channel.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Should().BeNull();
        _time.Advance(AgentChannel.CloseGrace);

        _channel.Socket.State.Should().Be(WebSocketState.Closed);
    }

    [Fact]
    public async Task Send_AfterTheClose_FailsSoTheCallerUsesHttp()
    {
        await _channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);

        await _channel.Invoking(c => c.SendAsync(new AckMessage { UpToSeq = 1 }, CancellationToken.None).AsTask())
            .Should().ThrowAsync<AgentChannelClosedException>();
    }

    [Fact]
    public void Truncate_KeepsCloseDescriptionsWithin123Bytes()
    {
        CloseDescription.Truncate(new string('é', 100)).Length.Should().Be(61);
        CloseDescription.Truncate("short").Should().Be("short");
    }

    [Fact]
    public async Task TaskResult_CarriesTheHeldAck_AndNoAckGoesOnItsOwn()
    {
        _channel.AckHold = Hold;
        await _channel.AcknowledgeAsync(3, holdForResult: true, CancellationToken.None);

        await _channel.SendAsync(_channel.WithHeldAck(HeldAckResult()), CancellationToken.None);
        _time.Advance(Hold);
        await SendMarkerAsync();

        (await ReceiveOnServerAsync()).Should().BeOfType<TaskResultMessage>().Which.AckUpToSeq.Should().Be(3);
        await ExpectMarkerAsync("the result took the acknowledgement, so its deadline sends nothing");
    }

    [Fact]
    public async Task HeldAck_WithoutAResult_GoesOnItsOwnAtTheDeadline_OnTheAgentsClock()
    {
        _channel.AckHold = Hold;
        await _channel.AcknowledgeAsync(3, holdForResult: true, CancellationToken.None);
        await _channel.AcknowledgeAsync(4, holdForResult: true, CancellationToken.None);

        _time.Advance(Hold - TimeSpan.FromMilliseconds(1));
        await SendMarkerAsync();
        await ExpectMarkerAsync("the deadline has not passed");
        _time.Advance(TimeSpan.FromMilliseconds(1));

        (await ReceiveOnServerAsync()).Should().BeOfType<AckMessage>().Which.UpToSeq.Should().Be(4, "holds are cumulative, and the first one's deadline counts");
    }

    [Fact]
    public async Task TaskThatRunsOn_SendsTheHeldAckAtOnce_AndItsResultCarriesNone()
    {
        _channel.AckHold = Hold;
        await _channel.AcknowledgeAsync(3, holdForResult: true, CancellationToken.None);

        await _channel.SendHeldAckAsync(CancellationToken.None);
        await _channel.SendAsync(_channel.WithHeldAck(HeldAckResult()), CancellationToken.None);

        (await ReceiveOnServerAsync()).Should().BeOfType<AckMessage>().Which.UpToSeq.Should().Be(3);
        (await ReceiveOnServerAsync()).Should().BeOfType<TaskResultMessage>().Which.AckUpToSeq.Should().BeNull();
    }

    [Fact]
    public async Task AckSentAtOnce_CoversWhatWasHeld()
    {
        _channel.AckHold = Hold;
        await _channel.AcknowledgeAsync(3, holdForResult: true, CancellationToken.None);

        await _channel.AcknowledgeAsync(4, holdForResult: false, CancellationToken.None);
        _time.Advance(Hold);
        await _channel.SendAsync(_channel.WithHeldAck(HeldAckResult()), CancellationToken.None);

        (await ReceiveOnServerAsync()).Should().BeOfType<AckMessage>().Which.UpToSeq.Should().Be(4);
        (await ReceiveOnServerAsync()).Should().BeOfType<TaskResultMessage>().Which.AckUpToSeq.Should().BeNull();
    }

    [Fact]
    public async Task ServerThatDoesNotTakeAcksWithResults_GetsEveryAckAtOnce()
    {
        _channel.AckHold.Should().Be(TimeSpan.Zero, "a channel holds no acknowledgement until the welcome says the server takes them with results");

        await _channel.AcknowledgeAsync(3, holdForResult: true, CancellationToken.None);
        await _channel.SendAsync(_channel.WithHeldAck(HeldAckResult()), CancellationToken.None);

        (await ReceiveOnServerAsync()).Should().BeOfType<AckMessage>().Which.UpToSeq.Should().Be(3);
        (await ReceiveOnServerAsync()).Should().BeOfType<TaskResultMessage>().Which.AckUpToSeq.Should().BeNull("a server of today would ignore it");
    }

    [Fact]
    public async Task OnlyATaskResult_CarriesTheHeldAck()
    {
        _channel.AckHold = Hold;
        await _channel.AcknowledgeAsync(3, holdForResult: true, CancellationToken.None);
        var inventory = new InventoryResultMessage { RequestId = "r1", IdempotencyKey = "a1:r1", Inventory = new BasicInventory { ComputerName = "PC" } };

        _channel.WithHeldAck(inventory).Should().BeSameAs(inventory);
        _channel.WithHeldAck(HeldAckResult()).Should().BeOfType<TaskResultMessage>().Which.AckUpToSeq.Should().Be(3);
    }

    private static TaskResultMessage HeldAckResult() => new() { TaskId = "t1", IdempotencyKey = "a1:t1", State = TaskState.Succeeded };

    private Task SendMarkerAsync() =>
        _channel.SendAsync(new ErrorMessage { Code = "marker", Detail = "sent after what is checked" }, CancellationToken.None).AsTask();

    private async Task ExpectMarkerAsync(string because) =>
        (await ReceiveOnServerAsync()).Should().BeOfType<ErrorMessage>(because).Which.Code.Should().Be("marker");

    private async Task SendFromServerAsync(byte[] bytes, int fragments)
    {
        var size = (bytes.Length + fragments - 1) / fragments;
        for (var offset = 0; offset < bytes.Length; offset += size)
        {
            var length = Math.Min(size, bytes.Length - offset);
            await _server.SendAsync(bytes.AsMemory(offset, length), WebSocketMessageType.Text, offset + length >= bytes.Length, CancellationToken.None);
        }
    }

    private async Task<Message> ReceiveOnServerAsync()
    {
        var buffer = new byte[64 * 1024];
        var result = await _server.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        return MessageCodec.Decode(buffer.AsSpan(0, result.Count)).Message!;
    }
}

/// <summary>Two connected in-memory streams: what one writes, the other reads.</summary>
internal static class InMemoryDuplex
{
    public static (Stream, Stream) CreatePair()
    {
        var aToB = Channel.CreateUnbounded<byte[]>();
        var bToA = Channel.CreateUnbounded<byte[]>();
        return (new End(bToA.Reader, aToB.Writer), new End(aToB.Reader, bToA.Writer));
    }

    private sealed class End(ChannelReader<byte[]> reader, ChannelWriter<byte[]> writer) : Stream
    {
        private byte[] _current = [];
        private int _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_offset == _current.Length)
            {
                if (!await reader.WaitToReadAsync(cancellationToken))
                {
                    return 0;
                }

                if (buffer.Length == 0)
                {
                    return 0;
                }

                if (reader.TryRead(out var next))
                {
                    _current = next;
                    _offset = 0;
                }
            }

            var count = Math.Min(buffer.Length, _current.Length - _offset);
            _current.AsMemory(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            writer.TryWrite(buffer.ToArray());
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => writer.TryWrite(buffer.AsSpan(offset, count).ToArray());

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            writer.TryComplete();
            base.Dispose(disposing);
        }
    }
}
