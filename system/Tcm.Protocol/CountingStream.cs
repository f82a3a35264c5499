namespace Tcm.Protocol;

/// <summary>
/// Passes everything through to an inner stream and counts the bytes each way: reads are one direction, writes the other
/// (an agent's bytes received and sent; a gateway's bytes to a backend and to an agent). Zero-byte reads stay zero-byte reads,
/// so an idle connection waits without a buffer as it would without the count.
/// </summary>
/// <remarks>A subclass (the lab's simulated sockets) counts by overriding <see cref="OnRead"/> and <see cref="OnWrite"/>.</remarks>
public class CountingStream : Stream
{
    private readonly Stream _inner;
    private readonly Action<int>? _onRead;
    private readonly Action<int>? _onWrite;
    private readonly bool _ownsInner;

    /// <summary>A stream over <paramref name="inner"/> that reports its bytes to the given callbacks.</summary>
    /// <param name="inner">The stream counted.</param>
    /// <param name="onRead">Called with the size of every non-empty read; null: reads are not counted.</param>
    /// <param name="onWrite">Called with the size of every non-empty write; null: writes are not counted.</param>
    /// <param name="ownsInner">Whether disposing this stream disposes <paramref name="inner"/>; false leaves it to its owner.</param>
    public CountingStream(Stream inner, Action<int>? onRead, Action<int>? onWrite, bool ownsInner)
    {
        _inner = inner;
        _onRead = onRead;
        _onWrite = onWrite;
        _ownsInner = ownsInner;
    }

    /// <summary>A stream over <paramref name="inner"/> (which it owns) that reports its bytes to <see cref="OnRead"/> and <see cref="OnWrite"/>.</summary>
    protected CountingStream(Stream inner)
        : this(inner, null, null, ownsInner: true)
    {
    }

    /// <summary>The stream everything passes through to.</summary>
    protected Stream Inner => _inner;

    /// <inheritdoc/>
    public override bool CanRead => _inner.CanRead;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => _inner.CanWrite;

    /// <inheritdoc/>
    public override bool CanTimeout => _inner.CanTimeout;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => CountedRead(_inner.Read(buffer, offset, count));

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer) => CountedRead(_inner.Read(buffer));

    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // why: an idle connection waits in a zero-byte read, which counts nothing; passed through as it is, the wait keeps no
        // state machine of this stream alive per connection.
        ValueTask<int> read;
        try
        {
            read = _inner.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex)
        {
            // A stream that fails at once (disposed, reset) fails the returned task, as an async read does.
            return ex is OperationCanceledException { CancellationToken.IsCancellationRequested: true } canceled
                ? ValueTask.FromCanceled<int>(canceled.CancellationToken)
                : ValueTask.FromException<int>(ex);
        }

        return buffer.IsEmpty ? read
            : read.IsCompletedSuccessfully ? ValueTask.FromResult(CountedRead(read.Result))
            : CountedReadAsync(read);
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count)
    {
        _inner.Write(buffer, offset, count);
        CountedWrite(count);
    }

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _inner.Write(buffer);
        CountedWrite(buffer.Length);
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        CountedWrite(buffer.Length);
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Flush() => _inner.Flush();

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsInner)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary><paramref name="bytes"/> (more than zero) were read.</summary>
    protected virtual void OnRead(int bytes) => _onRead?.Invoke(bytes);

    /// <summary><paramref name="bytes"/> (more than zero) were written.</summary>
    protected virtual void OnWrite(int bytes) => _onWrite?.Invoke(bytes);

    private async ValueTask<int> CountedReadAsync(ValueTask<int> read) => CountedRead(await read.ConfigureAwait(false));

    private int CountedRead(int bytes)
    {
        if (bytes > 0)
        {
            OnRead(bytes);
        }

        return bytes;
    }

    private void CountedWrite(int bytes)
    {
        if (bytes > 0)
        {
            OnWrite(bytes);
        }
    }
}
