using System.Buffers;
using System.Net.WebSockets;

namespace Tcm.LoadTests.Baseline;

/// <summary>The receive loop both ends of the baseline share, so the floor of the stack reads messages the same way on each side.</summary>
internal static class BaselineReceiver
{
    /// <summary>
    /// Hands every message of <paramref name="socket"/> to <paramref name="onMessage"/> (buffer, length) while it is open.
    /// A zero-byte read comes first, so an idle connection holds no buffer; a message is read whole into a pooled 4 KiB
    /// buffer, returned after <paramref name="onMessage"/>. True when the peer sent a close; false when the socket stopped
    /// being open or a message did not fit.
    /// </summary>
    public static async Task<bool> ReceiveAllAsync(WebSocket socket, Func<byte[], int, ValueTask> onMessage, CancellationToken cancellationToken)
    {
        while (socket.State == WebSocketState.Open)
        {
            var peek = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            if (peek.MessageType == WebSocketMessageType.Close)
            {
                return true;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        return false;
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return true;
                }

                await onMessage(buffer, length).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return false;
    }
}
