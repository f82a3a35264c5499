using System.Text;
using System.Threading.Channels;
using Tcm.Channels.Framing;
using ProtocolHttpRequest = Tcm.Protocol.HttpRequestMessage;
using ProtocolHttpResponse = Tcm.Protocol.HttpResponseMessage;

namespace Tcm.Agent.Tests;

public sealed class AgentChannelTests : IDisposable
{
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
    public void Truncate_KeepsCloseDescriptionsWithin123Bytes()
    {
        CloseDescription.Truncate(new string('é', 100)).Length.Should().Be(61);
        CloseDescription.Truncate("short").Should().Be("short");
    }

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
