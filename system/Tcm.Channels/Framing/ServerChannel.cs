using System.Net.WebSockets;
using Tcm.Protocol;

namespace Tcm.Channels.Framing;

/// <summary>
/// The server's side of one persistent channel, shared by the Notification Server's and the Task Server's sessions: the receive loop
/// (zero-byte reads, size limit, <see cref="ChannelFault"/> for what the peer got wrong), the ordered send queue, and the close
/// handshake (the last two from <see cref="ChannelEnd"/>, which the agent's channel shares). Kept small on purpose (the target is
/// 10,000+ per process): no timer, no buffer while idle, no send task while nothing is queued; one heartbeat for all channels
/// (<see cref="CheckDeadlines"/>) ends a hello that never comes, closes a channel whose agent fell silent, and aborts a peer that
/// ignores our close.
/// </summary>
public abstract class ServerChannel : ChannelEnd
{
    private const int AwaitingHello = 0;
    private const int Active = 1;
    private const int Closing = 2;

    private readonly ServerChannelSettings _settings;
    private int _state;

    /// <summary>A channel over an accepted <paramref name="socket"/>, opened now and waiting for its hello.</summary>
    protected ServerChannel(WebSocket socket, string connectionId, ServerChannelSettings settings)
        : base(socket)
    {
        ArgumentNullException.ThrowIfNull(settings);
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

    /// <summary>
    /// The connection's stream under the WebSocket, which knows when the agent was last heard (its pings included); null when the
    /// agent does not keep the channel alive itself (it announced no interval), and then the channel is never closed for silence.
    /// </summary>
    public HeardStream? Heard { get; init; }

    /// <summary>How long the agent may stay silent before the channel is closed: two of its keep-alive intervals.</summary>
    public TimeSpan SilenceLimit { get; init; }

    /// <inheritdoc/>
    protected sealed override TimeProvider Time => _settings.Time;

    /// <inheritdoc/>
    protected sealed override TimeSpan CloseTimeout => _settings.CloseTimeout;

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
                var first = await ChannelReader.WaitAsync(Socket, aborted).ConfigureAwait(false);
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

                    if (!await ChannelReader.DiscardAsync(Socket, first, aborted).ConfigureAwait(false))
                    {
                        await AnswerPeerCloseAsync().ConfigureAwait(false);
                        return;
                    }

                    continue;
                }

                var read = await ChannelReader.ReadAsync(Socket, first, _settings.MaxMessageBytes, aborted).ConfigureAwait(false);
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

    /// <summary>A send failed (<paramref name="error"/>: the exception's type); the connection is aborted.</summary>
    protected abstract void OnSendFailed(string error);

    /// <inheritdoc/>
    protected sealed override void OnSendFailed(Exception exception) => OnSendFailed(exception.GetType().Name);

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

        OnClosing();
        if (sendError)
        {
            Send(new ErrorMessage { Code = code, Detail = detail, Fatal = true });
        }

        _ = QueueClose(status, CloseDescription.Format(code, detail));
    }

    /// <summary>
    /// The heartbeat's check of this channel: a channel with no hello after <paramref name="helloTimeout"/> is closed with
    /// <c>hello-timeout</c>; a channel whose agent sent nothing (not even a ping) for longer than <see cref="SilenceLimit"/> is
    /// closed with <c>keep-alive-timeout</c>; a closing channel past its deadline is aborted.
    /// </summary>
    public void CheckDeadlines(long nowMs, TimeSpan helloTimeout)
    {
        if (IsAwaitingHello && nowMs - OpenedAtMs > (long)helloTimeout.TotalMilliseconds)
        {
            Fault(new ChannelFault(WebSocketCloseStatus.PolicyViolation, CloseReasons.HelloTimeout, $"no hello within {helloTimeout.TotalSeconds:0.#} s"));
        }
        else if (IsClosing)
        {
            AbortIfCloseOverdue(nowMs);
        }
        else if (Heard is { } heard && SilenceLimit > TimeSpan.Zero && nowMs - heard.LastHeardMs > (long)SilenceLimit.TotalMilliseconds)
        {
            // why: no close error message: an agent this quiet is most likely gone, and the close deadline aborts what does not answer.
            BeginClose(WebSocketCloseStatus.PolicyViolation, CloseReasons.KeepAliveTimeout,
                $"nothing heard for {(nowMs - heard.LastHeardMs) / 1000.0:0.#} s, two keep-alive intervals are {SilenceLimit.TotalSeconds:0.#} s");
        }
        else if (!IsAwaitingHello)
        {
            OnHeartbeat(nowMs);
        }
    }

    /// <summary>The heartbeat's pass over an open, welcomed channel at <paramref name="nowMs"/>: what the session does on a clock (never blocks).</summary>
    protected virtual void OnHeartbeat(long nowMs)
    {
    }

    /// <summary>The server starts closing the channel: what the session still sends goes before the close.</summary>
    protected virtual void OnClosing()
    {
    }

    /// <summary>
    /// Completes when what the session handed on from the messages it read (results being stored) has finished, so that what it sends
    /// about them goes before the answer to the peer's close. Nothing, by default.
    /// </summary>
    protected virtual Task WhenHandledAsync() => Task.CompletedTask;

    private async ValueTask AnswerPeerCloseAsync()
    {
        Volatile.Write(ref _state, Closing);
        await WhenHandledAsync().ConfigureAwait(false);
        await QueueClose(Socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, startDeadline: false).ConfigureAwait(false);
    }
}
