using System.Net.WebSockets;
using Tcm.Protocol;

namespace Tcm.Channels.Framing;

/// <summary>
/// The server's side of one persistent channel, shared by the Notification Server's and the Task Server's sessions: the receive loop
/// (zero-byte reads, size limit, <see cref="ChannelFault"/> for what the peer got wrong), the ordered send queue, and the close
/// handshake. Kept small on purpose (the target is 10,000+ per process): no timer, no buffer while idle, no send task while nothing is
/// queued; one heartbeat for all channels (<see cref="CheckDeadlines"/>) ends a hello that never comes and aborts a peer that ignores
/// our close.
/// <para>
/// Sends go through a FIFO queue drained by whichever caller found it idle, so there is never more than one outstanding send and
/// messages leave in the order they were queued. A close is queued like a message, after everything queued before it.
/// </para>
/// </summary>
public abstract class ServerChannel
{
    private const int AwaitingHello = 0;
    private const int Active = 1;
    private const int Closing = 2;

    private readonly WebSocket _socket;
    private readonly ServerChannelSettings _settings;
    private readonly Lock _sendLock = new();
    private Queue<Outgoing>? _sendQueue;
    private bool _sending;
    private bool _closeSent;
    private int _state;
    private long _closeDeadlineMs;

    /// <summary>A channel over an accepted <paramref name="socket"/>, opened now and waiting for its hello.</summary>
    protected ServerChannel(WebSocket socket, string connectionId, ServerChannelSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _socket = socket;
        _settings = settings;
        ConnectionId = connectionId;
        OpenedAtMs = settings.Time.GetUtcNow().ToUnixTimeMilliseconds();
    }

    /// <summary>16 hex digits, unique per connection.</summary>
    public string ConnectionId { get; }

    /// <summary>When the channel was accepted, in Unix milliseconds.</summary>
    public long OpenedAtMs { get; }

    /// <summary>No hello yet.</summary>
    public bool IsAwaitingHello => Volatile.Read(ref _state) == AwaitingHello;

    /// <summary>A close is queued or received: nothing more is handled.</summary>
    public bool IsClosing => Volatile.Read(ref _state) == Closing;

    /// <summary>When a closing channel is aborted if the peer has not answered our close, in Unix milliseconds; 0 when not closing.</summary>
    public long CloseDeadlineMs => Interlocked.Read(ref _closeDeadlineMs);

    /// <summary>
    /// Reads and hands messages to <see cref="OnMessageAsync"/> until the channel closes: a peer's close is answered after everything
    /// queued; while closing, messages are read and dropped until the peer's close arrives (or the heartbeat aborts). Never throws for a
    /// peer that goes away.
    /// </summary>
    protected async Task ReceiveLoopAsync(CancellationToken aborted)
    {
        try
        {
            while (true)
            {
                var first = await ChannelReader.WaitAsync(_socket, aborted).ConfigureAwait(false);
                if (first.MessageType == WebSocketMessageType.Close)
                {
                    await AnswerPeerCloseAsync().ConfigureAwait(false);
                    return;
                }

                if (IsClosing || first.MessageType == WebSocketMessageType.Binary)
                {
                    if (!IsClosing)
                    {
                        Fault(ChannelFault.BinaryNotSupported);
                    }

                    if (!await ChannelReader.DiscardAsync(_socket, first, aborted).ConfigureAwait(false))
                    {
                        await AnswerPeerCloseAsync().ConfigureAwait(false);
                        return;
                    }

                    continue;
                }

                var read = await ChannelReader.ReadAsync(_socket, first, _settings.MaxMessageBytes, aborted).ConfigureAwait(false);
                if (read.PeerClosed)
                {
                    await AnswerPeerCloseAsync().ConfigureAwait(false);
                    return;
                }

                if (read.Fault is { } fault)
                {
                    Fault(fault);
                }
                else if (read.Message is { } message)
                {
                    await OnMessageAsync(message, read.Bytes).ConfigureAwait(false);
                }
            }
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode is WebSocketError.ConnectionClosedPrematurely or WebSocketError.InvalidState or WebSocketError.Faulted)
        {
            OnVanished(ex.WebSocketErrorCode.ToString());
        }
        catch (WebSocketException ex)
        {
            OnProtocolError(ex.Message);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            OnVanished(nameof(WebSocketError.ConnectionClosedPrematurely));
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            OnVanished(nameof(WebSocketError.Faulted));
        }
    }

    /// <summary>Handles one message the peer sent (<paramref name="bytes"/> long); not called once the channel is closing.</summary>
    protected abstract ValueTask OnMessageAsync(Message message, int bytes);

    /// <summary>The channel is faulted by what the peer sent (for the log); the fatal error and the close follow.</summary>
    protected abstract void OnFaulted(ChannelFault fault);

    /// <summary>The peer went away without a close handshake.</summary>
    protected abstract void OnVanished(string error);

    /// <summary>The peer broke the WebSocket protocol itself.</summary>
    protected abstract void OnProtocolError(string detail);

    /// <summary>A send failed; the connection is aborted.</summary>
    protected abstract void OnSendFailed(string error);

    /// <summary>Most messages the send queue may hold; a peer that falls further behind is aborted (see <see cref="OnSendQueueFull"/>). Default: no bound.</summary>
    protected virtual int MaxQueuedMessages => int.MaxValue;

    /// <summary>The send queue reached <see cref="MaxQueuedMessages"/>: the peer reads slower than it is sent to; the connection is aborted.</summary>
    protected virtual void OnSendQueueFull(int queued)
    {
    }

    /// <summary>A message of <paramref name="bytes"/> went out.</summary>
    protected virtual void OnSent(int bytes)
    {
    }

    /// <summary>Moves from waiting for the hello to active; false when the channel is already active or closing.</summary>
    protected bool TryActivate() => Interlocked.CompareExchange(ref _state, Active, AwaitingHello) == AwaitingHello;

    /// <summary>Closes because of the peer's fault: a fatal <c>error</c>, then the close.</summary>
    protected void Fault(ChannelFault fault)
    {
        OnFaulted(fault);
        BeginClose(fault.Status, fault.Code, fault.Detail, sendError: true);
    }

    /// <summary>
    /// Starts closing: queues (after anything already queued) an optional fatal <c>error</c> and the close frame with the description
    /// <c>code: detail</c>. The receive loop ends when the peer answers; the heartbeat aborts the connection if it does not in time.
    /// </summary>
    public void BeginClose(WebSocketCloseStatus status, string code, string detail, bool sendError = false)
    {
        int state;
        do
        {
            state = Volatile.Read(ref _state);
            if (state == Closing)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _state, Closing, state) != state);

        Interlocked.Exchange(ref _closeDeadlineMs, _settings.Time.GetUtcNow().Add(_settings.CloseTimeout).ToUnixTimeMilliseconds());
        if (sendError)
        {
            Send(new ErrorMessage { Code = code, Detail = detail, Fatal = true });
        }

        Enqueue(new Outgoing(null, status, CloseDescription.Format(code, detail), null));
    }

    /// <summary>
    /// The heartbeat's check of this channel: a channel with no hello after <paramref name="helloTimeout"/> is closed with
    /// <c>hello-timeout</c>; a closing channel past its deadline is aborted.
    /// </summary>
    public void CheckDeadlines(long nowMs, TimeSpan helloTimeout)
    {
        if (IsAwaitingHello && nowMs - OpenedAtMs > (long)helloTimeout.TotalMilliseconds)
        {
            Fault(new ChannelFault(WebSocketCloseStatus.PolicyViolation, CloseReasons.HelloTimeout, $"no hello within {helloTimeout.TotalSeconds:0.#} s"));
        }
        else if (IsClosing && CloseDeadlineMs is var deadline and not 0 && nowMs > deadline)
        {
            Abort();
        }
    }

    /// <summary>Aborts the connection at once (no close handshake).</summary>
    public void Abort() => _socket.Abort();

    /// <summary>Queues a message; it is sent after everything queued before it.</summary>
    public void Send(Message message) => SendPayload(MessageCodec.Encode(message));

    /// <summary>
    /// Queues a message that is already UTF-8 JSON. With <paramref name="offload"/>, an idle queue starts draining on the thread pool
    /// instead of the caller's thread, so a fan-out to thousands of channels spreads the TLS work over the cores.
    /// </summary>
    public void SendPayload(byte[] utf8Json, bool offload = false) => Enqueue(new Outgoing(utf8Json, null, null, null), offload);

    private async ValueTask AnswerPeerCloseAsync()
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _state, Closing);
        Enqueue(new Outgoing(null, _socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, completion));
        await completion.Task.ConfigureAwait(false);
    }

    private void Enqueue(Outgoing item, bool offload = false)
    {
        var full = -1;
        lock (_sendLock)
        {
            if (_sending)
            {
                var queue = _sendQueue ??= new Queue<Outgoing>();
                if (queue.Count >= MaxQueuedMessages && item.Payload is not null)
                {
                    full = queue.Count;
                }
                else
                {
                    queue.Enqueue(item);
                    return;
                }
            }
            else
            {
                _sending = true;
            }
        }

        if (full >= 0)
        {
            // why: a bounded queue; what was not sent is stored (pushes) or retried by the peer (requests), so dropping the peer loses nothing.
            OnSendQueueFull(full);
            _closeSent = true;
            _socket.Abort();
            return;
        }

        if (offload)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Channel.DrainAsync(state.Item), (Channel: this, Item: item), preferLocal: false);
        }
        else
        {
            _ = DrainAsync(item);
        }
    }

    private async Task DrainAsync(Outgoing item)
    {
        while (true)
        {
            await SendOneAsync(item).ConfigureAwait(false);
            lock (_sendLock)
            {
                if (_sendQueue is not { Count: > 0 } queue)
                {
                    _sending = false;
                    return;
                }

                item = queue.Dequeue();
                if (queue.Count == 0 && queue.EnsureCapacity(0) > 16)
                {
                    // why: after a burst, do not keep a large idle queue per connection.
                    _sendQueue = null;
                }
            }
        }
    }

    private async Task SendOneAsync(Outgoing item)
    {
        try
        {
            if (_closeSent)
            {
                return;
            }

            if (item.Payload is { } payload)
            {
                await _socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                OnSent(payload.Length);
            }
            else if (item.CloseStatus is { } status)
            {
                _closeSent = true;
                if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await _socket.CloseOutputAsync(status, item.CloseDescription, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // why: the peer is gone; the receive loop sees it too and ends the session.
            _closeSent = true;
            OnSendFailed(ex.GetType().Name);
            _socket.Abort();
        }
        finally
        {
            item.Completion?.TrySetResult();
        }
    }

    private readonly record struct Outgoing(byte[]? Payload, WebSocketCloseStatus? CloseStatus, string? CloseDescription, TaskCompletionSource? Completion);
}
