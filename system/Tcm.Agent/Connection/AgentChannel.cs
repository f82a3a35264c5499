using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Tcm.Protocol;
using ProtocolHttpRequest = Tcm.Protocol.HttpRequestMessage;
using ProtocolHttpResponse = Tcm.Protocol.HttpResponseMessage;

namespace Tcm.Agent.Connection;

/// <summary>The channel dropped (or was closed) while a request over it was waiting; the caller retries over HTTP.</summary>
internal sealed class AgentChannelClosedException(string message) : Exception(message);

/// <summary>A frame from the server the agent cannot accept; the agent closes the channel with <see cref="CloseStatus"/>.</summary>
internal sealed class ChannelProtocolException(WebSocketCloseStatus closeStatus, string reason) : Exception(reason)
{
    public WebSocketCloseStatus CloseStatus { get; } = closeStatus;
}

/// <summary>
/// One open persistent channel over a <see cref="WebSocket"/>: serialized sends, receive of whole messages without holding a buffer
/// while idle, and correlation of the agent's <c>http.request</c>s with the server's <c>http.response</c>s.
/// Thread-safe for sends; one receiver at a time.
/// </summary>
internal sealed class AgentChannel : IDisposable
{
    private const int InitialReceiveBuffer = 4096;

    private readonly WebSocket _socket;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<long, TaskCompletionSource<ProtocolHttpResponse>> _pending = new();
    private long _nextRequestId;
    private volatile string? _closedReason;

    public AgentChannel(WebSocket socket, TimeProvider time, int maxMessageBytes = ProtocolConstants.DefaultMaxMessageBytes)
    {
        _socket = socket;
        _time = time;
        MaxMessageBytes = maxMessageBytes;
    }

    /// <summary>The largest message either side may send; the welcome may lower it.</summary>
    public int MaxMessageBytes { get; set; }

    public WebSocket Socket => _socket;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseStatusDescription => _socket.CloseStatusDescription;

    /// <summary>Sends one message as one text frame.</summary>
    public async ValueTask SendAsync(Message message, CancellationToken ct)
    {
        var bytes = MessageCodec.Encode(message);
        if (bytes.Length > MaxMessageBytes)
        {
            throw new InvalidOperationException($"a {message.GetType().Name} of {bytes.Length} bytes exceeds the channel's maximum of {MaxMessageBytes} bytes");
        }

        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_closedReason is { } reason)
            {
                throw new AgentChannelClosedException(reason);
            }

            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            throw new AgentChannelClosedException($"the channel failed while sending: {ex.Message}");
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Sends an <c>http.request</c> and waits for its <c>http.response</c>. Throws <see cref="AgentChannelClosedException"/> when the channel
    /// drops first and <see cref="TimeoutException"/> after <paramref name="timeout"/>; the caller then retries over HTTP.
    /// </summary>
    public async Task<ProtocolHttpResponse> RequestAsync(string method, string path, IReadOnlyDictionary<string, string>? headers, JsonElement? body, TimeSpan timeout, CancellationToken ct)
    {
        var id = Interlocked.Increment(ref _nextRequestId);
        var pending = new TaskCompletionSource<ProtocolHttpResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = pending;
        try
        {
            if (_closedReason is { } reason)
            {
                throw new AgentChannelClosedException(reason);
            }

            await SendAsync(new ProtocolHttpRequest { Id = id, Method = method, Path = path, Headers = headers, Body = body }, ct).ConfigureAwait(false);
            return await pending.Task.WaitAsync(timeout, _time, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{method} {path} over the channel got no answer within {timeout.TotalSeconds:0.#} s");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Hands an <c>http.response</c> to its waiting request; false when nobody waits (late or unknown id).</summary>
    public bool Complete(ProtocolHttpResponse response) =>
        _pending.TryRemove(response.Id, out var pending) && pending.TrySetResult(response);

    /// <summary>Fails every waiting request at once, so callers fall back to HTTP instead of waiting for their timeout.</summary>
    public void FailPending(string reason)
    {
        _closedReason = reason;
        foreach (var (id, pending) in _pending)
        {
            if (_pending.TryRemove(id, out _))
            {
                pending.TrySetException(new AgentChannelClosedException(reason));
            }
        }
    }

    /// <summary>
    /// Receives one whole message, or null when the server closed the channel. Waits with a zero-byte read, so an idle channel holds
    /// no buffer; rents one from the pool only while a message arrives. Throws <see cref="ChannelProtocolException"/> for binary,
    /// oversized or undecodable messages.
    /// </summary>
    public async ValueTask<Message?> ReceiveAsync(CancellationToken ct)
    {
        var first = await _socket.ReceiveAsync(Memory<byte>.Empty, ct).ConfigureAwait(false);
        if (first.MessageType == WebSocketMessageType.Close)
        {
            return null;
        }

        if (first.MessageType == WebSocketMessageType.Binary)
        {
            throw new ChannelProtocolException(WebSocketCloseStatus.InvalidMessageType, $"{CloseReasons.BinaryNotSupported}: the channel carries UTF-8 JSON text only");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBuffer);
        var count = 0;
        try
        {
            var endOfMessage = first.EndOfMessage;
            while (!endOfMessage)
            {
                if (count == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxMessageBytes + 1));
                    buffer.AsSpan(0, count).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var result = await _socket.ReceiveAsync(buffer.AsMemory(count), ct).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                count += result.Count;
                endOfMessage = result.EndOfMessage;
                // Stop reading as soon as the limit is passed: a hostile peer must not make the agent buffer without end.
                if (count > MaxMessageBytes)
                {
                    throw new ChannelProtocolException(WebSocketCloseStatus.MessageTooBig, $"{CloseReasons.TooLarge}: a message exceeded {MaxMessageBytes} bytes");
                }
            }

            var decoded = MessageCodec.Decode(buffer.AsSpan(0, count), MaxMessageBytes);
            if (!decoded.IsSuccess)
            {
                var code = MessageCodec.GetCloseReason(decoded.Error);
                var status = decoded.Error == DecodeError.UnknownKind ? WebSocketCloseStatus.PolicyViolation : WebSocketCloseStatus.InvalidPayloadData;
                throw new ChannelProtocolException(status, $"{code}: {decoded.Detail}");
            }

            return decoded.Message;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends a close frame without waiting for the server's (the receive loop sees it); never throws.</summary>
    public async Task CloseOutputAsync(WebSocketCloseStatus status, string description, CancellationToken ct)
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _sendLock.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    await _socket.CloseOutputAsync(status, Truncate(description), ct).ConfigureAwait(false);
                }
                finally
                {
                    _sendLock.Release();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            _socket.Abort();
        }
    }

    public void Dispose()
    {
        FailPending("the channel is closed");
        _socket.Dispose();
        _sendLock.Dispose();
    }

    /// <summary>Close descriptions are limited to 123 UTF-8 bytes by RFC 6455.</summary>
    internal static string Truncate(string description)
    {
        if (Encoding.UTF8.GetByteCount(description) <= 123)
        {
            return description;
        }

        var length = Math.Min(description.Length, 123);
        while (length > 0 && Encoding.UTF8.GetByteCount(description.AsSpan(0, length)) > 123)
        {
            length--;
        }

        if (length > 0 && char.IsHighSurrogate(description[length - 1]))
        {
            length--;
        }

        return description[..length];
    }
}
