using Tcm.Agent.Network;
using Tcm.Lab.Network;

namespace Tcm.Lab.Tests.Network;

/// <summary>
/// A simulated socket's reads over a scripted stream: the runtime may wake a waiting zero-byte read although no byte is there (a
/// readiness event left over from a burst), and the reader above must not then rent its buffer.
/// </summary>
public sealed class SimulatedConnectionTests
{
    private static TimeSpan Deadline => TimeSpan.FromSeconds(10);
    private readonly NetworkTopology _topology = new();
    private readonly ScriptedStream _inner = new();

    [Fact]
    public async Task ZeroByteRead_WokenWithoutBytes_WaitsOnUntilAByteIsThere()
    {
        var stale = new TaskCompletionSource<int>();
        var bytes = new TaskCompletionSource<int>();
        _inner.Reads.Enqueue(new ValueTask<int>(stale.Task));
        _inner.Reads.Enqueue(new ValueTask<int>(bytes.Task));
        _inner.Reads.Enqueue(ValueTask.FromResult(0));
        await using var connection = Connection();

        var wait = connection.ReadAsync(Memory<byte>.Empty).AsTask();
        stale.SetResult(0);
        SpinWait.SpinUntil(() => _inner.ReadsTaken == 2, Deadline).Should().BeTrue("a wake-up without bytes is checked by another zero-byte read");

        wait.IsCompleted.Should().BeFalse("no byte is there yet: the reader above must not rent its buffer");
        bytes.SetResult(0);
        (await wait.WaitAsync(Deadline)).Should().Be(0);
        _inner.ReadsTaken.Should().Be(3);
    }

    [Fact]
    public async Task ZeroByteRead_ThatFindsAByteAtOnce_ReturnsAtOnce()
    {
        _inner.Reads.Enqueue(ValueTask.FromResult(0));
        await using var connection = Connection();

        var wait = connection.ReadAsync(Memory<byte>.Empty);

        wait.IsCompletedSuccessfully.Should().BeTrue();
        _inner.ReadsTaken.Should().Be(1);
    }

    [Fact]
    public async Task ReadWaitingWithItsBuffer_IsCountedUntilItCompletes()
    {
        var data = new TaskCompletionSource<int>();
        _inner.Reads.Enqueue(new ValueTask<int>(data.Task));
        await using var connection = Connection();

        var read = connection.ReadAsync(new byte[16]).AsTask();
        _topology.ReceivesHoldingBuffer.Should().Be(1);

        data.SetResult(7);
        (await read.WaitAsync(Deadline)).Should().Be(7);
        _topology.ReceivesHoldingBuffer.Should().Be(0);
    }

    private SimulatedConnection Connection() =>
        new(new SimulatedNetwork(_topology, AgentLocation.Office), _inner, socket: null, AdapterKind.Ethernet, EndpointClass.Corporate, TrafficPurpose.Management, _topology);

    /// <summary>Answers each read with the next scripted result.</summary>
    private sealed class ScriptedStream : Stream
    {
        private int _readsTaken;

        public Queue<ValueTask<int>> Reads { get; } = new();

        public int ReadsTaken => Volatile.Read(ref _readsTaken);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _readsTaken);
            lock (Reads)
            {
                return Reads.Dequeue();
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
