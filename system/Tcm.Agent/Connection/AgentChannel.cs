using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using Tcm.Channels.Framing;
using Tcm.Protocol;
using ProtocolHttpRequest = Tcm.Protocol.HttpRequestMessage;
using ProtocolHttpResponse = Tcm.Protocol.HttpResponseMessage;

namespace Tcm.Agent.Connection;

/// <summary>The channel dropped (or was closed) while a request over it was waiting; the caller retries over HTTP.</summary>
internal sealed class AgentChannelClosedException(string message) : Exception(message);

/// <summary>A frame from the server the agent cannot accept; the agent closes the channel with <see cref="CloseStatus"/>.</summary>
internal sealed class ChannelProtocolException(ChannelFault fault) : Exception(fault.Description)
{
    public WebSocketCloseStatus CloseStatus => Fault.Status;

    public ChannelFault Fault { get; } = fault;
}

/// <summary>
/// One open persistent channel over a <see cref="WebSocket"/>: serialized sends, receive of whole messages without holding a buffer
/// while idle, and correlation of the agent's <c>http.request</c>s with the server's <c>http.response</c>s.
/// Thread-safe for sends; one receiver at a time.
/// </summary>
internal sealed class AgentChannel : IDisposable
{
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
    /// oversized or undecodable messages, with the close status of the one table (<see cref="ChannelFault"/>).
    /// </summary>
    public async ValueTask<Message?> ReceiveAsync(CancellationToken ct)
    {
        var first = await ChannelReader.WaitAsync(_socket, ct).ConfigureAwait(false);
        if (first.MessageType == WebSocketMessageType.Close)
        {
            return null;
        }

        if (first.MessageType == WebSocketMessageType.Binary)
        {
            throw new ChannelProtocolException(ChannelFault.BinaryNotSupported);
        }

        var read = await ChannelReader.ReadAsync(_socket, first, MaxMessageBytes, ct).ConfigureAwait(false);
        return read.Fault is { } fault ? throw new ChannelProtocolException(fault) : read.Message;
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
                    await _socket.CloseOutputAsync(status, CloseDescription.Truncate(description), ct).ConfigureAwait(false);
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
}
