using System.Text;
using Tcm.Channels.Framing;

namespace Tcm.Agent.Tests.Connection;

/// <summary>
/// The agent's keep-alive on one tick: <see cref="ChannelPings"/> over <see cref="PingedStream"/>, with a real client and server
/// WebSocket of the runtime on each end of an in-memory connection, on a fake clock.
/// </summary>
public sealed class ChannelPingsTests : IDisposable
{
    private static readonly ChannelKeepAlive KeepAlive = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(20));
    private readonly FakeTimeProvider _time = new();
    private readonly ChannelPings _pings;
    private readonly List<IDisposable> _owned = [];

    public ChannelPingsTests() => _pings = new ChannelPings(_time);

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        _pings.Dispose();
    }

    [Fact]
    public async Task TwoChannels_OpenedApart_ArePingedOnTheSameTick_OneIntervalAfterTheFirst()
    {
        var (ns, nsServer) = Open();
        _time.Advance(TimeSpan.FromSeconds(25));
        var (ts, tsServer) = Open();

        _time.Advance(TimeSpan.FromSeconds(35));

        // Each WebSocket's own timer would have pinged the second channel 60 s after it opened (at 85 s), apart from the first.
        (ns.Pings, ts.Pings).Should().Be((1, 1), "both channels are pinged at the first channel's tick");
        (await ReadFrameAsync(nsServer)).Should().Match<byte[]>(f => IsMaskedPing(f));
        (await ReadFrameAsync(tsServer)).Should().Match<byte[]>(f => IsMaskedPing(f));

        _time.Advance(TimeSpan.FromSeconds(60));

        (ns.Pings, ts.Pings).Should().Be((1, 1), "nobody answered on these raw ends: no new ping, the channels failed at 80 s");
    }

    [Fact]
    public void TwoChannelsOfOneBufferedConnection_TheirPingsLeaveInOneWrite()
    {
        // why: HTTP/2 sends a stream's data when its connection is flushed; both channels are streams of one connection.
        var connection = new BufferedConnection();
        var ns = _pings.Add(connection.OpenStream(), KeepAlive);
        _time.Advance(TimeSpan.FromSeconds(25));
        var ts = _pings.Add(connection.OpenStream(), KeepAlive);

        _time.Advance(TimeSpan.FromSeconds(35));

        (ns.Pings, ts.Pings).Should().Be((1, 1));
        var write = connection.Writes.Should().ContainSingle("both pings were written before either was flushed").Which;
        write.Should().HaveCount(28);
        (IsMaskedPing(write[..14]), IsMaskedPing(write[14..])).Should().Be((true, true));
    }

    [Fact]
    public async Task AnsweredPings_KeepTheChannel_AndFramesBetweenThemArriveWhole()
    {
        var (stream, serverEnd) = Open();
        using var client = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        using var server = WebSocket.CreateFromStream(serverEnd, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var buffer = new byte[256];
        // why: a WebSocket answers a ping, and reads a pong, only while a receive is pending.
        var atServer = server.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask();
        var atClient = client.ReceiveAsync(new byte[256].AsMemory(), CancellationToken.None).AsTask();

        for (var tick = 1; tick <= 3; tick++)
        {
            _time.Advance(TimeSpan.FromSeconds(60));
            await Eventually.WaitAsync(() => stream.AwaitingAnswer, awaiting => !awaiting, Eventually.DefaultDeadline, $"the server's pong to ping {tick}");
            _time.Advance(TimeSpan.FromSeconds(20));
        }

        stream.Pings.Should().Be(3);
        await client.SendAsync(Encoding.UTF8.GetBytes("after three pings"), WebSocketMessageType.Text, true, CancellationToken.None);
        var received = await atServer.WaitAsync(Eventually.DefaultDeadline);
        Encoding.UTF8.GetString(buffer, 0, received.Count).Should().Be("after three pings");
        await server.SendAsync("to the agent"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        (await atClient.WaitAsync(Eventually.DefaultDeadline)).MessageType.Should().Be(WebSocketMessageType.Text);
    }

    [Fact]
    public async Task AnUnansweredPing_FailsItsChannel_AfterTheTimeout_AndADisposedChannelIsNoLongerPinged()
    {
        // why: a real loopback connection, whose release ends the read pending on it, as the agent's HTTP connections' do.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var agentSide = new System.Net.Sockets.TcpClient();
        await agentSide.ConnectAsync((System.Net.IPEndPoint)listener.LocalEndpoint);
        using var serverSide = await listener.AcceptTcpClientAsync();
        var stream = _pings.Add(agentSide.GetStream(), KeepAlive);
        using var client = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        var receive = client.ReceiveAsync(new byte[256].AsMemory(), CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(60));
        _time.Advance(TimeSpan.FromSeconds(19));
        receive.IsCompleted.Should().BeFalse("the timeout has not passed");

        _time.Advance(TimeSpan.FromSeconds(1));

        var failed = await FluentActions.Awaiting(() => receive.WaitAsync(Eventually.DefaultDeadline)).Should().ThrowAsync<WebSocketException>();
        failed.Which.InnerException.Should().BeOfType<IOException>().Which.Message.Should().Be("no answer to the keep-alive ping within 20 s");
        client.Dispose();
        _pings.Count.Should().Be(0);
    }

    [Fact]
    public async Task AChannelWithAShorterInterval_SetsTheTick()
    {
        var (slow, slowServer) = Open();
        _time.Advance(TimeSpan.FromSeconds(10));
        var fast = _pings.Add(Pair(out var fastServer), KeepAlive with { Interval = TimeSpan.FromSeconds(30) });

        _time.Advance(TimeSpan.FromSeconds(30));

        (slow.Pings, fast.Pings).Should().Be((1, 1), "both at the shorter interval's tick, 40 s: within each one's interval");
        (await ReadFrameAsync(slowServer)).Should().Match<byte[]>(f => IsMaskedPing(f));
        (await ReadFrameAsync(fastServer)).Should().Match<byte[]>(f => IsMaskedPing(f));
    }

    private (PingedStream Agent, Stream Server) Open()
    {
        var stream = _pings.Add(Pair(out var server), KeepAlive);
        _owned.Add(stream);
        return (stream, server);
    }

    private Stream Pair(out Stream server)
    {
        var (a, b) = InMemoryDuplex.CreatePair();
        _owned.Add(a);
        server = a;
        return b;
    }

    private static async Task<byte[]> ReadFrameAsync(Stream server)
    {
        var frame = new byte[14];
        await server.ReadExactlyAsync(frame).AsTask().WaitAsync(Eventually.DefaultDeadline);
        return frame;
    }

    /// <summary>A connection whose streams' writes wait in one buffer until a flush sends them as one write.</summary>
    private sealed class BufferedConnection
    {
        private readonly List<byte> _buffer = [];

        public List<byte[]> Writes { get; } = [];

        public Stream OpenStream() => new View(this);

        private sealed class View(BufferedConnection connection) : Stream
        {
            public override bool CanRead => true;
            public override bool CanWrite => true;
            public override bool CanSeek => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override void Write(byte[] buffer, int offset, int count) => connection._buffer.AddRange(buffer.AsSpan(offset, count));

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            {
                connection._buffer.AddRange(buffer.Span);
                return ValueTask.CompletedTask;
            }

            public override void Flush()
            {
                if (connection._buffer.Count > 0)
                {
                    connection.Writes.Add([.. connection._buffer]);
                    connection._buffer.Clear();
                }
            }

            public override Task FlushAsync(CancellationToken cancellationToken)
            {
                Flush();
                return Task.CompletedTask;
            }

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("nothing is read in this test");

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();
        }
    }

    private static bool IsMaskedPing(byte[] frame) => frame[0] == 0x89 && frame[1] == (0x80 | 8);
}
