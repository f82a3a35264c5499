using System.Buffers;
using System.Net.WebSockets;
using Tcm.Protocol;

namespace Tcm.Channels.Framing;

/// <summary>What one read of a channel gave: a message, the peer's close, or a fault the reader must close the channel for.</summary>
/// <param name="Message">The decoded message; null for a close or a fault.</param>
/// <param name="Bytes">How many bytes the message had.</param>
/// <param name="Fault">Why the message was refused (too large, binary, undecodable).</param>
/// <param name="PeerClosed">The peer's close frame arrived instead of a message.</param>
public readonly record struct ChannelRead(Message? Message, int Bytes, ChannelFault? Fault, bool PeerClosed)
{
    /// <summary>The peer's close frame arrived.</summary>
    public static ChannelRead Closed => new(null, 0, null, true);
}

/// <summary>
/// Reads whole channel messages (UTF-8 JSON text, one message per WebSocket message) within the size limit. The wait for a message is a
/// zero-byte read, so an idle channel holds no buffer; a buffer is rented from the pool only while a message arrives, and reading stops
/// as soon as the limit is passed, so a hostile peer cannot make the reader buffer without end.
/// </summary>
public static class ChannelReader
{
    private const int InitialBufferBytes = 4096;

    /// <summary>Waits for the next message without a buffer (a zero-byte read): tells its type, or the peer's close.</summary>
    public static ValueTask<ValueWebSocketReceiveResult> WaitAsync(WebSocket socket, CancellationToken cancellationToken) =>
        socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);

    /// <summary>Waits for the next message and reads it: <see cref="WaitAsync"/>, a binary check, then <see cref="ReadAsync"/>.</summary>
    public static async ValueTask<ChannelRead> ReceiveAsync(WebSocket socket, int maxMessageBytes, CancellationToken cancellationToken)
    {
        var first = await WaitAsync(socket, cancellationToken).ConfigureAwait(false);
        if (first.MessageType == WebSocketMessageType.Close)
        {
            return ChannelRead.Closed;
        }

        if (first.MessageType == WebSocketMessageType.Binary)
        {
            return new(null, 0, ChannelFault.BinaryNotSupported, false);
        }

        return await ReadAsync(socket, first, maxMessageBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Assembles the text message that <paramref name="first"/> (the zero-byte read) announced and decodes it. A message past
    /// <paramref name="maxMessageBytes"/> or one that does not decode comes back as a <see cref="ChannelRead.Fault"/>.
    /// </summary>
    public static async ValueTask<ChannelRead> ReadAsync(WebSocket socket, ValueWebSocketReceiveResult first, int maxMessageBytes, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        var count = 0;
        try
        {
            var endOfMessage = first.EndOfMessage;
            while (!endOfMessage)
            {
                var usable = Math.Min(buffer.Length, maxMessageBytes + 1);
                if (count == usable)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxMessageBytes + 1));
                    buffer.AsSpan(0, count).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                    usable = Math.Min(buffer.Length, maxMessageBytes + 1);
                }

                var result = await socket.ReceiveAsync(buffer.AsMemory(count, usable - count), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return ChannelRead.Closed;
                }

                count += result.Count;
                endOfMessage = result.EndOfMessage;
                if (count > maxMessageBytes)
                {
                    return new(null, count, ChannelFault.TooLarge(maxMessageBytes), false);
                }
            }

            var decoded = MessageCodec.Decode(buffer.AsSpan(0, count), maxMessageBytes);
            return decoded.IsSuccess
                ? new(decoded.Message, count, null, false)
                : new(null, count, ChannelFault.Undecodable(decoded), false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads and drops the rest of the message <paramref name="first"/> announced; false when the peer's close arrived instead.</summary>
    public static async ValueTask<bool> DiscardAsync(WebSocket socket, ValueWebSocketReceiveResult first, CancellationToken cancellationToken)
    {
        if (first.EndOfMessage)
        {
            return true;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return false;
                }

                if (result.EndOfMessage)
                {
                    return true;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
