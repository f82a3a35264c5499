using System.Buffers;

namespace Tcm.Gateway.Relay;

/// <summary>
/// Copies one direction of a relay. Each turn waits with a zero-byte read, then rents a buffer, reads what arrived, writes it
/// and returns the buffer: an idle direction holds no buffer.
/// </summary>
internal static class StreamCopier
{
    /// <summary>Size of the buffer rented per turn.</summary>
    internal const int BufferSize = 16 * 1024;

    /// <summary>Copies until the input ends; never throws for I/O failures or cancellation, it says which side failed.</summary>
    public static async ValueTask<StreamCopyResult> CopyAsync(Stream input, Stream output, Action<int> onBytes, TunnelActivity? activity, CancellationToken ct)
    {
        while (true)
        {
            int read;
            byte[]? buffer = null;
            try
            {
                try
                {
                    // why: waits for data without a buffer, so thousands of idle tunnels hold none.
                    await input.ReadAsync(Memory<byte>.Empty, ct).ConfigureAwait(false);
                    buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                    read = await input.ReadAsync(buffer, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return StreamCopyResult.Canceled;
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or System.Net.Http.HttpRequestException or Microsoft.AspNetCore.Connections.ConnectionResetException)
                {
                    return StreamCopyResult.InputError;
                }

                if (read == 0)
                {
                    return StreamCopyResult.Completed;
                }

                try
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                    await output.FlushAsync(ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return StreamCopyResult.Canceled;
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or System.Net.Http.HttpRequestException or Microsoft.AspNetCore.Connections.ConnectionResetException)
                {
                    return StreamCopyResult.OutputError;
                }
            }
            finally
            {
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            onBytes(read);
            activity?.Touch();
        }
    }
}

/// <summary>How a <see cref="StreamCopier"/> direction ended.</summary>
internal enum StreamCopyResult
{
    /// <summary>The input ended cleanly.</summary>
    Completed,
    /// <summary>Reading failed.</summary>
    InputError,
    /// <summary>Writing failed.</summary>
    OutputError,
    /// <summary>Canceled: the other direction ended, the idle timeout, or shutdown.</summary>
    Canceled,
}
