using Tcm.Agent.Status;

namespace Tcm.Agent.Network;

/// <summary>
/// Passes everything through to the inner stream and counts the bytes each way (zero-byte reads stay zero-byte reads, and count
/// nothing): the agent's stream into its <see cref="AgentCounters"/>, and the base of an <see cref="INetwork"/>'s own counted
/// connections (the lab's simulated sockets).
/// </summary>
public class CountingStream : Stream
{
    private readonly Stream _inner;
    private readonly AgentCounters? _counters;

    /// <summary>A stream over <paramref name="inner"/> (which it owns) that counts into <paramref name="counters"/>.</summary>
    public CountingStream(Stream inner, AgentCounters counters)
        : this(inner) => _counters = counters;

    /// <summary>A stream over <paramref name="inner"/> (which it owns) that reports its bytes to <see cref="OnSent"/> and <see cref="OnReceived"/>.</summary>
    protected CountingStream(Stream inner) => _inner = inner;

    /// <summary>The stream everything passes through to.</summary>
    protected Stream Inner => _inner;

    public override bool CanRead => _inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => _inner.CanWrite;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override bool CanTimeout => _inner.CanTimeout;

    public override int Read(byte[] buffer, int offset, int count) => Count(_inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(_inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        _inner.Write(buffer, offset, count);
        OnSent(count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _inner.Write(buffer);
        OnSent(buffer.Length);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        OnSent(buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary><paramref name="bytes"/> were written.</summary>
    protected virtual void OnSent(int bytes) => _counters?.AddBytesSent(bytes);

    /// <summary><paramref name="bytes"/> (more than zero) were read.</summary>
    protected virtual void OnReceived(int bytes) => _counters?.AddBytesReceived(bytes);

    private int Count(int read)
    {
        if (read > 0)
        {
            OnReceived(read);
        }

        return read;
    }
}
