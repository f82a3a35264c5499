using System.Net.WebSockets;
using Tcm.Protocol;

namespace Tcm.Channels.Framing;

/// <summary>
/// One end of a persistent channel, the same for the servers' sessions (<see cref="ServerChannel"/>) and the agent's channel: the
/// ordered send queue and the close handshake with its deadline. Sends go through a FIFO queue drained by whichever caller found it
/// idle, so there is never more than one outstanding send on the socket and messages leave in the order they were queued; no send task
/// exists while nothing is queued. A close is queued like a message, after everything queued before it, and nothing is sent after it.
/// A peer that does not answer the close by <see cref="CloseDeadlineMs"/> is aborted: the servers check the deadline from their one
/// heartbeat, the agent from a timer of its own clock.
/// </summary>
public abstract class ChannelEnd
{
    private readonly Lock _sendLock = new();
    private Queue<Outgoing>? _sendQueue;
    private bool _sending;
    private bool _closeSent;
    private TaskCompletionSource<bool>? _closeQueued;
    private long _closeDeadlineMs;

    /// <summary>An end over an open <paramref name="socket"/>.</summary>
    protected ChannelEnd(WebSocket socket) => Socket = socket;

    /// <summary>The WebSocket under this end.</summary>
    public WebSocket Socket { get; }

    /// <summary>When a close that the peer has not answered is aborted, in Unix milliseconds; 0 when no close is queued.</summary>
    public long CloseDeadlineMs => Interlocked.Read(ref _closeDeadlineMs);

    /// <summary>Whether a close is queued or sent: nothing queued after it is sent.</summary>
    public bool IsCloseQueued
    {
        get
        {
            lock (_sendLock)
            {
                return _closeQueued is not null;
            }
        }
    }

    /// <summary>The clock of the close deadline.</summary>
    protected abstract TimeProvider Time { get; }

    /// <summary>How long the peer may take to answer our close before the connection is aborted.</summary>
    protected abstract TimeSpan CloseTimeout { get; }

    /// <summary>Queues a message; it is sent after everything queued before it.</summary>
    public void Send(Message message) => SendPayload(MessageCodec.Encode(message));

    /// <summary>
    /// Queues a message that is already UTF-8 JSON. With <paramref name="offload"/>, an idle queue starts draining on the thread pool
    /// instead of the caller's thread, so a fan-out to thousands of channels spreads the TLS work over the cores.
    /// </summary>
    public void SendPayload(byte[] utf8Json, bool offload = false) => Enqueue(new Outgoing(utf8Json, null, null, null, default), offload);

    /// <summary>
    /// Queues a message that is already UTF-8 JSON and waits until it went out: true when it did, false when the channel failed or
    /// closed first. A message still queued when <paramref name="cancellationToken"/> is cancelled is not sent.
    /// </summary>
    public Task<bool> SendPayloadAsync(byte[] utf8Json, CancellationToken cancellationToken)
    {
        if (TryStartSending())
        {
            // why: an idle queue is drained by its caller anyway; when the caller's message is the first, it awaits that send itself
            // instead of a completion source whose continuation is queued to the thread pool (an agent sends every result this way:
            // a hop and three objects per task).
            var sent = SendFirstAsync(new Outgoing(utf8Json, null, null, null, cancellationToken));
            return sent.IsCompleted || !cancellationToken.CanBeCanceled ? sent : sent.WaitAsync(cancellationToken);
        }

        var completion = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Outgoing(utf8Json, null, null, completion, cancellationToken));
        return completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// The peer's deadline to answer our close has passed at <paramref name="nowMs"/> (strictly after it): aborts the connection and
    /// returns true. False when no close is queued or the peer still has time.
    /// </summary>
    public bool AbortIfCloseOverdue(long nowMs)
    {
        if (CloseDeadlineMs is var deadline and not 0 && nowMs > deadline)
        {
            Abort();
            return true;
        }

        return false;
    }

    /// <summary>Aborts the connection at once (no close handshake).</summary>
    public void Abort() => Socket.Abort();

    /// <summary>
    /// Queues the close frame after everything queued before it; completes (true) when it went out. Only the first close counts: a
    /// later one returns the first one's completion. With <paramref name="startDeadline"/>, the peer has <see cref="CloseTimeout"/>
    /// from now to answer (see <see cref="CloseDeadlineMs"/>); an answer to the peer's own close needs none.
    /// </summary>
    protected Task<bool> QueueClose(WebSocketCloseStatus status, string? description, bool startDeadline = true)
    {
        TaskCompletionSource<bool> completion;
        lock (_sendLock)
        {
            if (_closeQueued is { } queued)
            {
                return queued.Task;
            }

            completion = _closeQueued = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (startDeadline)
        {
            Interlocked.Exchange(ref _closeDeadlineMs, Time.GetUtcNow().Add(CloseTimeout).ToUnixTimeMilliseconds());
        }

        Enqueue(new Outgoing(null, status, description, completion, default));
        return completion.Task;
    }

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

    /// <summary>A send failed; the connection is aborted and nothing more is sent.</summary>
    protected abstract void OnSendFailed(Exception exception);

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
            item.Completion?.TrySetResult(false);
            Socket.Abort();
            return;
        }

        if (offload)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.End.DrainAsync(state.Item), (End: this, Item: item), preferLocal: false);
        }
        else
        {
            _ = DrainAsync(item);
        }
    }

    /// <summary>Marks the queue busy when it is idle and no close was queued: the caller then sends first.</summary>
    private bool TryStartSending()
    {
        lock (_sendLock)
        {
            if (_sending || _closeQueued is not null)
            {
                return false;
            }

            _sending = true;
            return true;
        }
    }

    private async Task<bool> SendFirstAsync(Outgoing item)
    {
        var sent = await SendOneAsync(item).ConfigureAwait(false);
        if (NextQueued() is { } next)
        {
            _ = DrainAsync(next);
        }

        return sent;
    }

    private async Task DrainAsync(Outgoing item)
    {
        while (true)
        {
            await SendOneAsync(item).ConfigureAwait(false);
            if (NextQueued() is not { } next)
            {
                return;
            }

            item = next;
        }
    }

    /// <summary>The next message queued behind the one just sent; null (and the queue idle again) when there is none.</summary>
    private Outgoing? NextQueued()
    {
        lock (_sendLock)
        {
            if (_sendQueue is not { Count: > 0 } queue)
            {
                _sending = false;
                return null;
            }

            var item = queue.Dequeue();
            if (queue.Count == 0 && queue.EnsureCapacity(0) > 16)
            {
                // why: after a burst, do not keep a large idle queue per connection.
                _sendQueue = null;
            }

            return item;
        }
    }

    private async Task<bool> SendOneAsync(Outgoing item)
    {
        var sent = false;
        try
        {
            if (_closeSent || item.Cancellation.IsCancellationRequested)
            {
                return false;
            }

            if (item.Payload is { } payload)
            {
                await Socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                sent = true;
                OnSent(payload.Length);
            }
            else if (item.CloseStatus is { } status)
            {
                _closeSent = true;
                if (Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await Socket.CloseOutputAsync(status, item.CloseDescription, CancellationToken.None).ConfigureAwait(false);
                    sent = true;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // why: the peer is gone; the receive loop sees it too and ends the channel.
            _closeSent = true;
            OnSendFailed(ex);
            Socket.Abort();
        }
        finally
        {
            item.Completion?.TrySetResult(sent);
        }

        return sent;
    }

    private readonly record struct Outgoing(
        byte[]? Payload, WebSocketCloseStatus? CloseStatus, string? CloseDescription, TaskCompletionSource<bool>? Completion, CancellationToken Cancellation);
}
