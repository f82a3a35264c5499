using System.Text;
using Tcm.Gateway.KeepAlive;
using Tcm.Testing;
using static Tcm.Gateway.Tests.KeepAlive.WebSocketFrames;

namespace Tcm.Gateway.Tests.KeepAlive;

public sealed class AgentKeepAliveStreamTests
{
    private static readonly byte[] Text = FromAgent(0x1, Encoding.UTF8.GetBytes("{\"kind\":\"hello\"}"));
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedStream _agent = new();
    private readonly List<KeepAliveOutcome> _outcomes = [];

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(3)]
    public async Task AMaskedPing_IsAnsweredWithItsPayloadUnmasked_AndOnlyTheFramesAfterItReachTheBackend(int chunk)
    {
        using var stream = Create();
        _agent.Send([.. Ping("abcdefgh"), .. Text], chunk);

        (await ReadAsync(stream, Text.Length)).Should().Equal(Text);
        _agent.Written.Should().Equal(Pong("abcdefgh"));
        _outcomes.Should().Equal(KeepAliveOutcome.Answered);
    }

    [Fact]
    public async Task APingBetweenTheFragmentsOfAMessage_IsAnswered_AndTheFragmentsPassByteForByte()
    {
        using var stream = Create();
        var first = FromAgent(0x1, Encoding.UTF8.GetBytes("{\"kind\":"), fin: false);
        var last = FromAgent(0x0, Encoding.UTF8.GetBytes("\"hello\"}"));
        _agent.Send([.. first, .. Ping(""), .. last], chunk: 1);

        (await ReadAsync(stream, first.Length + last.Length)).Should().Equal([.. first, .. last]);
        _agent.Written.Should().Equal(Pong(""));
    }

    [Fact]
    public async Task ALargeDataFrame_ThatLooksLikeAPingInside_PassesWhole()
    {
        using var stream = Create();
        var big = FromAgent(0x2, [.. Enumerable.Repeat(Ping()[0], 70_000)]);
        _agent.Send([.. big, .. Ping()], chunk: 1000);

        (await ReadAsync(stream, big.Length)).Should().Equal(big);
        _agent.Written.Should().BeEmpty();
        var next = stream.ReadAsync(new byte[16]).AsTask();
        await Eventually.WaitAsync(() => Task.FromResult(_agent.Written.Length), n => n == Pong().Length, Eventually.DefaultDeadline, "the ping after it answered");
    }

    [Fact]
    public async Task AFrameLongerThanTheFramingBuffer_WhollyArrived_ReachesTheBackendInOneRead()
    {
        using var stream = Create();
        var result = FromAgent(0x1, Encoding.UTF8.GetBytes("{\"kind\":\"task.result\",\"output\":\"" + new string('x', 900) + "\"}"));
        _agent.Send([.. result, .. Text]);

        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer);

        buffer[..read].Should().Equal(result, "one write to the backend per message, not the buffer's head and then the rest");
        (await ReadAsync(stream, Text.Length)).Should().Equal(Text);
    }

    public static TheoryData<string, byte[]> NotAnswered => new()
    {
        { "a ping after the agent's close", [.. FromAgent(0x8, [0x03, 0xE8]), .. Ping()] },
        { "a ping after a length that cannot be framed", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, .. Ping()] },
        { "unmasked", FromAgent(0x9, [1, 2, 3], masked: false) },
        { "not final", FromAgent(0x9, [1, 2, 3], fin: false) },
        { "with an RSV bit", FromAgent(0x9, [1, 2, 3], rsv: 0x40) },
        { "with a 16-bit length", FromAgent(0x9, [1, 2, 3], longLength: true) },
        { "over 125 bytes", FromAgent(0x9, new byte[126]) },
    };

    [Theory]
    [MemberData(nameof(NotAnswered))]
    public async Task AMalformedPing_OrOneAfterACloseOrAnUnframeableLength_PassesUnchanged_ForTheBackendToJudge(string what, byte[] frame)
    {
        using var stream = Create();
        _agent.Send([.. frame, .. Text], chunk: 2);

        (await ReadAsync(stream, frame.Length + Text.Length)).Should().Equal([.. frame, .. Text], what);
        _agent.Written.Should().BeEmpty(what);
        _outcomes.Should().BeEmpty(what);
    }

    [Fact]
    public async Task WhileTheBackendsFrameIsHalfWritten_APingIsForwarded_AndAnsweredOnceTheFrameIsWhole()
    {
        using var stream = Create();
        var message = FromServer(0x1, Encoding.UTF8.GetBytes("{\"kind\":\"welcome\"}"));
        await stream.WriteAsync(message.AsMemory(0, 5));
        _agent.Send(Ping());

        (await ReadAsync(stream, Ping().Length)).Should().Equal(Ping(), "a pong now would land inside the backend's frame");

        await stream.WriteAsync(message.AsMemory(5));
        _agent.Send([.. Ping(), .. Text]);
        (await ReadAsync(stream, Text.Length)).Should().Equal(Text);
        _agent.Written.Should().Equal([.. message, .. Pong()]);
        _outcomes.Should().Equal(KeepAliveOutcome.Forwarded, KeepAliveOutcome.Answered);
    }

    [Fact]
    public async Task AfterTheBackendsClose_PingsAreForwarded()
    {
        using var stream = Create();
        var close = FromServer(0x8, [0x03, 0xE8]);
        await stream.WriteAsync(close);
        _agent.Send(Ping());

        (await ReadAsync(stream, Ping().Length)).Should().Equal(Ping());
        _agent.Written.Should().Equal(close);
    }

    [Fact]
    public async Task OnePingPerForwardingInterval_IsForwarded_TheOthersAreAnswered()
    {
        using var stream = Create(forwardAfter: TimeSpan.FromSeconds(60));
        var forwarded = new List<byte>();
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[64];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                lock (forwarded)
                {
                    forwarded.AddRange(buffer[..n]);
                }
            }
        });

        for (var i = 0; i < 6; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(25));
            var handled = _outcomes.Count;
            var passed = Forwarded();
            _agent.Send(Ping());
            await Eventually.WaitAsync(() => Task.FromResult((_outcomes.Count, Forwarded())),
                s => s.Item1 > handled && (_outcomes[^1] == KeepAliveOutcome.Answered || s.Item2 > passed), Eventually.DefaultDeadline, "the ping handled");
        }

        _outcomes.Should().Equal(
            KeepAliveOutcome.Answered, KeepAliveOutcome.Answered, KeepAliveOutcome.Forwarded,
            KeepAliveOutcome.Answered, KeepAliveOutcome.Answered, KeepAliveOutcome.Forwarded);
        Forwarded().Should().Be(2 * Ping().Length);
        _agent.Written.Should().Equal([.. Pong(), .. Pong(), .. Pong(), .. Pong()]);
        _agent.End();
        await reading.WaitAsync(Eventually.DefaultDeadline);

        int Forwarded()
        {
            lock (forwarded)
            {
                return forwarded.Count;
            }
        }
    }

    [Fact]
    public async Task WithNothingToWaitFor_EveryPingIsForwarded()
    {
        using var stream = Create(forwardAfter: TimeSpan.Zero);
        _agent.Send([.. Ping(), .. Ping()]);

        (await ReadAsync(stream, 2 * Ping().Length)).Should().Equal([.. Ping(), .. Ping()]);
        _agent.Written.Should().BeEmpty();
        _outcomes.Should().Equal(KeepAliveOutcome.Forwarded, KeepAliveOutcome.Forwarded);
    }

    [Fact]
    public async Task AZeroByteRead_WaitsThroughAnsweredPings_AndReturnsWhenABackendFrameCame()
    {
        using var stream = Create();
        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        _agent.Send(Ping());
        await Eventually.WaitAsync(() => Task.FromResult(_agent.Written.Length), n => n > 0, Eventually.DefaultDeadline, "the pong");
        waiting.IsCompleted.Should().BeFalse("an answered ping leaves nothing for the backend");

        _agent.Send(Text);
        (await waiting.WaitAsync(Eventually.DefaultDeadline)).Should().Be(0);
        (await ReadAsync(stream, Text.Length)).Should().Equal(Text);
    }

    [Fact]
    public async Task EveryByteFromTheAgent_PingsIncluded_MarksItHeard()
    {
        using var stream = Create();
        var opened = stream.LastHeard;
        _time.Advance(TimeSpan.FromSeconds(40));
        var pending = stream.ReadAsync(new byte[16]).AsTask();
        _agent.Send(Ping());
        await Eventually.WaitAsync(() => Task.FromResult(stream.LastHeard), t => t > opened, Eventually.DefaultDeadline, "the ping heard");

        _time.GetElapsedTime(stream.LastHeard).Should().Be(TimeSpan.Zero);
        pending.IsCompleted.Should().BeFalse("the ping was answered");
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(3)]
    public async Task EveryByteEitherWay_AnsweredPingsAndTheirPongsIncluded_IsCountedOnce(int chunk)
    {
        var (read, written) = (0, 0);
        using var stream = new AgentKeepAliveStream(_agent, TimeSpan.FromMinutes(5), _time, onRead: n => read += n, onWrite: n => written += n);
        var welcome = FromServer(0x1, Encoding.UTF8.GetBytes("{\"kind\":\"welcome\"}"));
        var result = FromAgent(0x1, Encoding.UTF8.GetBytes("{\"kind\":\"task.result\",\"output\":\"" + new string('x', 900) + "\"}"));
        await stream.WriteAsync(welcome);
        _agent.Send([.. Ping(), .. Text, .. result], chunk);

        (await ReadAsync(stream, Text.Length + result.Length)).Should().Equal([.. Text, .. result]);

        _agent.Written.Should().Equal([.. welcome, .. Pong()]);
        read.Should().Be(Ping().Length + Text.Length + result.Length, "what the agent sent, its answered ping too");
        written.Should().Be(welcome.Length + Pong().Length, "what the agent was sent, the gateway's pong too");
    }

    [Fact]
    public async Task TheAgentsEnd_IsTheEndOfTheStream_EvenInsideAFrame()
    {
        using var stream = Create();
        _agent.Send(Ping()[..4]);
        _agent.End();

        (await ReadAsync(stream, 4)).Should().Equal(Ping()[..4]);
        (await stream.ReadAsync(new byte[16])).Should().Be(0);
    }

    private AgentKeepAliveStream Create(TimeSpan? forwardAfter = null) =>
        new(_agent, forwardAfter ?? TimeSpan.FromMinutes(5), _time, o =>
        {
            lock (_outcomes)
            {
                _outcomes.Add(o);
            }
        });

    /// <summary>Reads exactly <paramref name="count"/> bytes, in whatever pieces the stream gives them.</summary>
    private static async Task<byte[]> ReadAsync(Stream stream, int count)
    {
        var result = new byte[count];
        var read = 0;
        using var deadline = new CancellationTokenSource(Eventually.DefaultDeadline);
        while (read < count)
        {
            var n = await stream.ReadAsync(result.AsMemory(read), deadline.Token);
            n.Should().BePositive("the stream ended after {0} of {1} bytes", read, count);
            read += n;
        }

        return result;
    }
}
