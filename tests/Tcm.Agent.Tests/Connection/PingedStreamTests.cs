using Tcm.Channels.Framing;

namespace Tcm.Agent.Tests.Connection;

/// <summary>
/// <see cref="PingedStream"/>'s writes: a ping goes only between two of the WebSocket's frames. In memory, over an inner stream whose
/// writes finish when the test says so.
/// </summary>
public sealed class PingedStreamTests
{
    private static readonly ChannelKeepAlive KeepAlive = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(20));
    private readonly GatedStream _inner = new();
    private readonly PingedStream _stream;

    public PingedStreamTests() => _stream = new PingedStream(_inner, new FakeTimeProvider(), KeepAlive, owner: null);

    [Fact]
    public async Task AFrameWrittenDuringAPing_WaitsForIt_ThenFollowsIt()
    {
        var ping = _stream.WritePingAsync();
        var frame = _stream.WriteAsync("frame"u8.ToArray()).AsTask();

        frame.IsCompleted.Should().BeFalse("the ping is still being written");
        _inner.Writes.Should().ContainSingle("the frame does not go while the ping is being written");

        _inner.FinishWrites();
        (await ping.WaitAsync(Eventually.DefaultDeadline)).Should().BeTrue();
        await Eventually.WaitAsync(() => _inner.Count, count => count == 2, Eventually.DefaultDeadline, "the frame's write, once the ping's ended");
        _inner.FinishWrites();
        await frame.WaitAsync(Eventually.DefaultDeadline);

        _inner.Writes[0].Should().HaveCount(14).And.Match<byte[]>(w => w[0] == 0x89, "the ping first");
        _inner.Writes[1].Should().Equal("frame"u8.ToArray());
    }

    [Fact]
    public async Task APingDuringAFrame_IsLeftOut_AndTheNextOneGoes()
    {
        var frame = _stream.WriteAsync("frame"u8.ToArray()).AsTask();

        (await _stream.WritePingAsync()).Should().BeFalse("a frame is being written: its bytes keep the channel open as a ping would");

        _inner.FinishWrites();
        await frame.WaitAsync(Eventually.DefaultDeadline);
        var ping = _stream.WritePingAsync();
        _inner.FinishWrites();
        (await ping.WaitAsync(Eventually.DefaultDeadline)).Should().BeTrue();
        _stream.Pings.Should().Be(1);
    }

    [Fact]
    public async Task AFrameWriteCancelledWhileWaitingForAPing_LeavesTheStreamUsable()
    {
        using var cancel = new CancellationTokenSource();
        var ping = _stream.WritePingAsync();
        var cancelled = _stream.WriteAsync("dropped"u8.ToArray(), cancel.Token).AsTask();

        await cancel.CancelAsync();
        await FluentActions.Awaiting(() => cancelled.WaitAsync(Eventually.DefaultDeadline)).Should().ThrowAsync<OperationCanceledException>();
        _inner.FinishWrites();
        await ping.WaitAsync(Eventually.DefaultDeadline);

        var frame = _stream.WriteAsync("next"u8.ToArray()).AsTask();
        _inner.FinishWrites();
        await frame.WaitAsync(Eventually.DefaultDeadline);
        _inner.Writes[^1].Should().Equal("next"u8.ToArray());
        _inner.Writes.Should().HaveCount(2, "the ping and the next frame; the cancelled frame never went");
    }

    /// <summary>
    /// Records each write; a write finishes when <see cref="FinishWrites"/> is called (those waiting then; later ones wait for the next
    /// call). Only its asynchronous write is used: the rest is the memory stream's.
    /// </summary>
    private sealed class GatedStream : MemoryStream
    {
        private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<byte[]> Writes { get; } = [];

        public int Count
        {
            get { lock (Writes) { return Writes.Count; } }
        }

        public void FinishWrites()
        {
            var gate = _gate;
            _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            gate.TrySetResult();
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (Writes)
            {
                Writes.Add(buffer.ToArray());
            }

            return new ValueTask(_gate.Task);
        }
    }
}
