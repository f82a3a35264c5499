namespace Tcm.Protocol;

/// <summary>
/// Passes everything through to an inner stream and counts the bytes each way: reads are one direction, writes the other
/// (an agent's bytes received and sent; a gateway's bytes to a backend and to an agent). Zero-byte reads stay zero-byte reads,
/// so an idle connection waits without a buffer as it would without the count.
/// </summary>
/// <param name="inner">The stream counted.</param>
/// <param name="onRead">Called with the size of every non-empty read; null: reads are not counted.</param>
/// <param name="onWrite">Called with the size of every non-empty write; null: writes are not counted.</param>
/// <param name="ownsInner">Whether disposing this stream disposes <paramref name="inner"/>; false leaves it to its owner.</param>
public sealed class CountingStream(Stream inner, Action<int>? onRead, Action<int>? onWrite, bool ownsInner) : Stream
{
    /// <inheritdoc/>
    public override bool CanRead => inner.CanRead;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => inner.CanWrite;

    /// <inheritdoc/>
    public override bool CanTimeout => inner.CanTimeout;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count), onRead);

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer), onRead);

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Counted(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), onRead);

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        Counted(count, onWrite);
    }

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        Counted(buffer.Length, onWrite);
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Counted(buffer.Length, onWrite);
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Flush() => inner.Flush();

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsInner)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override ValueTask DisposeAsync() => ownsInner ? inner.DisposeAsync() : ValueTask.CompletedTask;

    private static int Counted(int bytes, Action<int>? onBytes)
    {
        if (bytes > 0)
        {
            onBytes?.Invoke(bytes);
        }

        return bytes;
    }
}
