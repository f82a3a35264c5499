using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Tcm.Channels.Framing;
using Tcm.Protocol;

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
/// One open persistent channel over a <see cref="WebSocket"/>: the channel core's ordered send queue and close handshake
/// (<see cref="ChannelEnd"/>, as the servers' sessions), receive of whole messages without holding a buffer while idle, and correlation
/// of the agent's <c>http.request</c>s with the server's <c>http.response</c>s. A close the server does not answer within
/// <see cref="CloseGrace"/> on the agent's clock ends in an abort. Thread-safe for sends; one receiver at a time.
/// </summary>
internal sealed class AgentChannel : ChannelEnd, IDisposable
{
    /// <summary>How long a server may take to answer the agent's close before the agent cuts the socket.</summary>
    internal static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _time;
    private readonly HeldAck _heldAck;
    // A few requests in flight at most: sized for that, not for the default 31 buckets and a lock per core.
    private readonly ConcurrentDictionary<long, TaskCompletionSource<ProtocolHttpResponse>> _pending = new(concurrencyLevel: 1, capacity: 2);
    private readonly Lock _timerGate = new();
    private ITimer? _closeTimer;
    private bool _disposed;
    private long _nextRequestId;
    private volatile string? _closedReason;
    private volatile string? _sendFailure;

    public AgentChannel(WebSocket socket, TimeProvider time, int maxMessageBytes = ProtocolConstants.DefaultMaxMessageBytes)
        : base(socket)
    {
        _time = time;
        _heldAck = new HeldAck(time, upToSeq => _ = SendQuietlyAsync(new AckMessage { UpToSeq = upToSeq }));
        MaxMessageBytes = maxMessageBytes;
    }

    /// <summary>The counters of the connection this channel belongs to: every message sent is counted there by kind. Default: none.</summary>
    public Status.AgentCounters? Counters { get; init; }

    /// <summary>The largest message either side may send; the welcome may lower it.</summary>
    public int MaxMessageBytes { get; set; }

    /// <summary>
    /// How long the acknowledgement of a task push may wait for the task's result to carry it: zero (every acknowledgement at once)
    /// unless the server's welcome said <see cref="WelcomeMessage.AcksWithResults"/>.
    /// </summary>
    public TimeSpan AckHold { get; set; }

    /// <summary>
    /// Acknowledges every push up to <paramref name="upToSeq"/>: at once, or, when <paramref name="holdForResult"/> and <see cref="AckHold"/>
    /// allow, held for the next result to carry (<see cref="WithHeldAck"/>), sent on its own after <see cref="AckHold"/> or by
    /// <see cref="SendHeldAckAsync"/>. An acknowledgement sent at once covers whatever was held.
    /// </summary>
    public ValueTask AcknowledgeAsync(long upToSeq, bool holdForResult, CancellationToken ct)
    {
        if (holdForResult && AckHold > TimeSpan.Zero && _heldAck.Hold(upToSeq, AckHold))
        {
            return ValueTask.CompletedTask;
        }

        _heldAck.Take();
        return SendAsync(new AckMessage { UpToSeq = upToSeq }, ct);
    }

    /// <summary>What to send for <paramref name="message"/>: a task result carrying the held acknowledgement, when one is held; else the message.</summary>
    public Message WithHeldAck(Message message) =>
        message is TaskResultMessage result && _heldAck.Take() is long upToSeq ? result with { AckUpToSeq = upToSeq } : message;

    /// <summary>Sends the held acknowledgement now, if one is held (its task runs on, so no result follows at once).</summary>
    public ValueTask SendHeldAckAsync(CancellationToken ct) =>
        _heldAck.Take() is long upToSeq ? SendAsync(new AckMessage { UpToSeq = upToSeq }, ct) : ValueTask.CompletedTask;

    public WebSocketCloseStatus? CloseStatus => Socket.CloseStatus;

    public string? CloseStatusDescription => Socket.CloseStatusDescription;

    protected override TimeProvider Time => _time;

    protected override TimeSpan CloseTimeout => CloseGrace;

    /// <summary>Sends one message as one text frame, after everything queued before it; returns once it went out.</summary>
    /// <remarks>why pooled (here and in <see cref="ReceiveAsync"/>): every message of a task passes here, each once awaited.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(Message message, CancellationToken ct)
    {
        var bytes = MessageCodec.Encode(message);
        if (bytes.Length > MaxMessageBytes)
        {
            throw new InvalidOperationException($"a {message.GetType().Name} of {bytes.Length} bytes exceeds the channel's maximum of {MaxMessageBytes} bytes");
        }

        if (_closedReason is { } reason)
        {
            throw new AgentChannelClosedException(reason);
        }

        if (!await SendPayloadAsync(bytes, ct).ConfigureAwait(false))
        {
            ct.ThrowIfCancellationRequested();
            throw new AgentChannelClosedException(_sendFailure ?? "the channel is closing");
        }

        Counters?.AddMessageSent(message);
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
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Message?> ReceiveAsync(CancellationToken ct)
    {
        var first = await ChannelReader.WaitAsync(Socket, ct).ConfigureAwait(false);
        if (first.MessageType == WebSocketMessageType.Close)
        {
            return null;
        }

        if (first.MessageType == WebSocketMessageType.Binary)
        {
            throw new ChannelProtocolException(ChannelFault.BinaryNotSupported);
        }

        var read = await ChannelReader.ReadAsync(Socket, first, MaxMessageBytes, ct).ConfigureAwait(false);
        if (read.Fault is { } fault)
        {
            throw new ChannelProtocolException(fault);
        }

        Counters?.AddMessageReceived();
        return read.Message;
    }

    /// <summary>
    /// Starts the close handshake: the close frame goes out after everything queued before it, and a server that does not answer it
    /// within <see cref="CloseGrace"/> is cut off (the receive loop then ends). Returns once the frame went out, or when
    /// <paramref name="ct"/> gives up waiting; never throws for a channel that is gone. Only the first close counts.
    /// </summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string description, CancellationToken ct)
    {
        var sent = QueueClose(status, CloseDescription.Truncate(description));
        lock (_timerGate)
        {
            if (!_disposed && _closeTimer is null && Socket.State is not WebSocketState.Closed)
            {
                _closeTimer = _time.CreateTimer(static state => ((AgentChannel)state!).AbortUnlessClosed(), this, CloseGrace, Timeout.InfiniteTimeSpan);
            }
        }

        try
        {
            await sent.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Cuts the socket unless the close handshake completed (or the socket is gone already).</summary>
    public void AbortUnlessClosed()
    {
        if (Socket.State is not (WebSocketState.Closed or WebSocketState.Aborted))
        {
            Abort();
        }
    }

    protected override void OnSendFailed(Exception exception) => _sendFailure = $"the channel failed while sending: {exception.Message}";

    private async Task SendQuietlyAsync(Message message)
    {
        try
        {
            await SendAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (AgentChannelClosedException)
        {
            // why: the channel is gone; the next hello says what the agent received.
        }
    }

    public void Dispose()
    {
        lock (_timerGate)
        {
            _disposed = true;
            _closeTimer?.Dispose();
        }

        _heldAck.Dispose();

        FailPending("the channel is closed");
        Socket.Dispose();
    }
}
