using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Tcm.Channels.Framing;

namespace Tcm.Agent.Connection;

/// <summary>
/// The stream under one channel's WebSocket (what the upgrade gave: an HTTP/2 stream or the HTTP/1.1 connection), through which
/// <see cref="ChannelPings"/> sends the channel's keep-alive pings: the WebSocket itself sends none, so that all of an agent's
/// channels ping on one tick (through the gateway both ride one HTTP/2 connection, and pings written together leave in one write).
/// </summary>
/// <remarks>
/// A ping is an RFC 6455 control frame (FIN, opcode 9, masked as a client's frames are, an 8-byte counter as payload: 14 bytes,
/// what the WebSocket's own ping was). It goes only between two of the WebSocket's frames: the WebSocket writes each frame in one
/// write, and a write waits while a ping is being written; a ping finding a frame being written is left out (the frame's bytes
/// keep the channel open as a ping would). The server's pong reaches the WebSocket, which drops an unasked pong; what the agent
/// checks is that anything came from the server after the ping, the pong at the latest, within the keep-alive timeout.
/// <para>
/// Reads pass to the upgraded stream one at a time. The WebSocket reads one at a time too, except when the agent's close crosses the
/// server's: .NET 10's WebSocket then waits for the server's end of the connection with a read from its receive and another from its
/// close, both at once (dotnet/runtime#121157; the fix, dotnet/runtime#127183, is not in 10.0.12). An HTTP/2 stream has one waiter for
/// its data: a second read at once loses the first one's wake-up (that receive never ends), or, when it comes between the first's
/// check and its wait, throws from the wait's registration on the thread pool and ends the process (InvalidOperationException in
/// Http2Stream's IValueTaskSource.OnCompleted, seen in a load test). Here the second read waits for the first to end.
/// </para>
/// </remarks>
internal sealed class PingedStream : Stream
{
    private const int PayloadLength = 8;
    private const int FrameLength = 2 + 4 + PayloadLength;

    // Who writes to the inner stream now (_writer): the WebSocket writes one frame at a time, and a ping goes only between two.
    private const int Idle = 0;
    private const int WritingFrame = 1;
    private const int WritingPing = 2;
    private const int WritingPingFrameWaits = 3;

    private readonly Stream _inner;
    private readonly TimeProvider _time;
    private readonly ChannelPings? _owner;
    // why: a state and, only while a frame waits for a ping, a completion: thousands of simulated channels need no semaphore each.
    private int _writer;
    private TaskCompletionSource? _pingWritten;
    private long _lastHeard;
    private long _pingedAt;
    private long _pings;
    private volatile string? _failure;
    private int _isDisposed;
    // Reads entered and not yet ended (one reading, the others waiting for their turn), and the turns, made at the first overlap only.
    private int _readers;
    private SemaphoreSlim? _readTurns;

    /// <param name="inner">The upgraded stream.</param>
    /// <param name="time">The agent's clock.</param>
    /// <param name="keepAlive">The channel's keep-alive (its interval and the timeout of a ping's answer).</param>
    /// <param name="owner">The agent's pings, told when the stream is disposed; null when nobody pings it.</param>
    internal PingedStream(Stream inner, TimeProvider time, ChannelKeepAlive keepAlive, ChannelPings? owner)
    {
        _inner = inner;
        _time = time;
        KeepAlive = keepAlive;
        _owner = owner;
        _lastHeard = time.GetTimestamp();
    }

    /// <summary>The channel's keep-alive interval and the timeout of a ping's answer.</summary>
    public ChannelKeepAlive KeepAlive { get; }

    /// <summary>How many pings were written.</summary>
    public long Pings => Interlocked.Read(ref _pings);

    /// <summary>Whether a ping is waiting for an answer (nothing came from the server since it).</summary>
    public bool AwaitingAnswer => _failure is null && Interlocked.Read(ref _pingedAt) is not 0 and var pinged && Interlocked.Read(ref _lastHeard) < pinged;

    /// <summary>When the ping waiting for its answer was sent (<see cref="TimeProvider.GetTimestamp"/>), 0 when none is.</summary>
    public long PingedAt => AwaitingAnswer ? Interlocked.Read(ref _pingedAt) : 0;

    /// <summary>
    /// Writes a ping now, unless one is still waiting for its answer, one of the WebSocket's frames is being written, or the channel
    /// failed; true when it wrote one. The ping may wait in the transport's buffer until <see cref="FlushAsync(CancellationToken)"/>
    /// (HTTP/2 sends a stream's data when its connection is flushed). Never throws: a connection that broke is seen by the channel's
    /// receive.
    /// </summary>
    public async Task<bool> WritePingAsync()
    {
        if (_failure is not null || AwaitingAnswer || Interlocked.CompareExchange(ref _writer, WritingPing, Idle) != Idle)
        {
            return false;
        }

        try
        {
            // Set before the write: an answer read while the ping is still being written counts.
            Interlocked.Exchange(ref _pingedAt, Math.Max(1, _time.GetTimestamp()));
            var frame = new byte[FrameLength];
            frame[0] = 0x89; // FIN, ping
            frame[1] = 0x80 | PayloadLength; // masked, 8 bytes
            RandomNumberGenerator.Fill(frame.AsSpan(2, 4));
            BinaryPrimitives.WriteInt64BigEndian(frame.AsSpan(6), Interlocked.Increment(ref _pings));
            for (var i = 0; i < PayloadLength; i++)
            {
                frame[6 + i] ^= frame[2 + (i & 3)];
            }

            await _inner.WriteAsync(frame).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (IsConnectionGone(ex))
        {
            return false;
        }
        finally
        {
            PingWritten();
        }
    }

    /// <summary>Sends what was written (a ping) and is still buffered; never throws, as <see cref="WritePingAsync"/>.</summary>
    public async Task FlushPingAsync()
    {
        try
        {
            await _inner.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionGone(ex))
        {
            // The WebSocket's receive reports it.
        }
    }

    /// <summary>Ends the channel: its reads fail with <paramref name="reason"/> and the connection under it is released.</summary>
    public void Fail(string reason)
    {
        _failure = reason;
        _inner.Dispose();
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    // why pooled: every message a channel receives comes through here, and a fan-out to a fleet of agents in one process (the
    // simulator, the load tests) made a state machine box per read; the WebSocket awaits each read once.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfFailed();
        if (Interlocked.Increment(ref _readers) > 1)
        {
            // why not cancellable: a turn handed to a read that stopped waiting would be lost. The read before this one ends soon: the
            // WebSocket that overlaps two reads aborts after a second, which disposes this stream and ends the read under it.
            await ReadTurns.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        int read;
        try
        {
            read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (_failure is not null)
        {
            throw new IOException(_failure);
        }
        finally
        {
            if (Interlocked.Decrement(ref _readers) > 0)
            {
                ReadTurns.Release();
            }
        }

        if (read > 0)
        {
            Interlocked.Exchange(ref _lastHeard, _time.GetTimestamp());
        }
        else
        {
            ThrowIfFailed();
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _writer, WritingFrame, Idle) != Idle)
        {
            return WriteAfterPingAsync(buffer, cancellationToken);
        }

        ValueTask write;
        try
        {
            write = _inner.WriteAsync(buffer, cancellationToken);
        }
        catch
        {
            Volatile.Write(ref _writer, Idle);
            throw;
        }

        if (write.IsCompleted)
        {
            Volatile.Write(ref _writer, Idle);
            return write;
        }

        return FrameWrittenAsync(write);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush() => _inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _isDisposed, 1) == 0)
        {
            _owner?.Remove(this);
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private SemaphoreSlim ReadTurns => Volatile.Read(ref _readTurns) ?? CreateReadTurns();

    private SemaphoreSlim CreateReadTurns()
    {
        var created = new SemaphoreSlim(0, int.MaxValue);
        if (Interlocked.CompareExchange(ref _readTurns, created, null) is { } other)
        {
            created.Dispose();
            return other;
        }

        return created;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FrameWrittenAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _writer, Idle);
        }
    }

    /// <summary>A frame that found a ping being written waits for it, then writes (the WebSocket never writes two frames at once).</summary>
    private async ValueTask WriteAfterPingAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref _writer, WritingFrame, Idle);
            if (seen == Idle)
            {
                break;
            }

            if (seen == WritingFrame)
            {
                throw new InvalidOperationException("the WebSocket wrote two frames at once");
            }

            var written = Volatile.Read(ref _pingWritten);
            if (seen == WritingPingFrameWaits && written is null)
            {
                // The ping's end took the completion and is about to free the stream.
                continue;
            }

            if (seen == WritingPing)
            {
                // Announced before the state says so: the ping's end reads it once it sees a frame waiting.
                written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _pingWritten, written);
                if (Interlocked.CompareExchange(ref _writer, WritingPingFrameWaits, WritingPing) != WritingPing)
                {
                    continue;
                }
            }

            await written!.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _writer, Idle);
        }
    }

    /// <summary>The ping's write ended: the inner stream is free, and a frame waiting for it goes on.</summary>
    private void PingWritten()
    {
        if (Interlocked.CompareExchange(ref _writer, Idle, WritingPing) == WritingPing)
        {
            return;
        }

        // A frame waits (WritingPingFrameWaits): its completion was published before the state changed.
        var written = Interlocked.Exchange(ref _pingWritten, null);
        Volatile.Write(ref _writer, Idle);
        written?.TrySetResult();
    }

    private static bool IsConnectionGone(Exception ex) =>
        ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or NotSupportedException;

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            throw new IOException(failure);
        }
    }
}
