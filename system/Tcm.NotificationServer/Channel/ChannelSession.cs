using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;
using Tcm.Protocol;
using HttpRequestMessage = Tcm.Protocol.HttpRequestMessage;
using HttpResponseMessage = Tcm.Protocol.HttpResponseMessage;

namespace Tcm.NotificationServer.Channel;

/// <summary>
/// One agent's persistent channel. Kept small on purpose (the target is 10,000+ per process): no timer, no buffer
/// while idle (a zero-byte read waits for the next frame), no send task while nothing is queued.
/// <para>
/// Sends go through a FIFO queue drained by whichever caller found it idle, so there is never more than one outstanding
/// send and pushes leave in the order they were queued.
/// </para>
/// </summary>
internal sealed partial class ChannelSession
{
    private const int InitialReceiveBufferBytes = 4096;
    private const int AwaitingHello = 0;
    private const int Active = 1;
    private const int Closing = 2;

    private readonly WebSocket _webSocket;
    private readonly ChannelServices _services;
    private readonly Lock _sendLock = new();
    private Queue<Outgoing>? _sendQueue;
    private bool _sending;
    private bool _closeSent;
    private int _state;
    private long _closeDeadlineMs;
    private long _nextRequestId;
    private ConcurrentDictionary<long, TaskCompletionSource<HttpResponseMessage?>>? _pendingRequests;

    /// <summary>The CEM gateway the channel came through (its site-server name), or null for a direct channel.</summary>
    public string? ViaGateway { get; init; }

    public ChannelSession(WebSocket webSocket, AgentRecord agent, string connectionId, ChannelServices services)
    {
        _webSocket = webSocket;
        Agent = agent;
        ConnectionId = connectionId;
        _services = services;
        OpenedAtMs = services.Time.GetUtcNow().ToUnixTimeMilliseconds();
    }

    public AgentRecord Agent { get; }

    public string ConnectionId { get; }

    public long OpenedAtMs { get; }

    /// <summary>Set under the delivery gate once the welcome and the re-sent pushes are queued: new pushes may follow.</summary>
    public bool Ready { get; set; }

    public bool IsAwaitingHello => Volatile.Read(ref _state) == AwaitingHello;

    public bool IsClosing => Volatile.Read(ref _state) == Closing;

    public long CloseDeadlineMs => Interlocked.Read(ref _closeDeadlineMs);

    /// <summary>Reads and handles messages until the channel closes. Never throws for a peer that goes away.</summary>
    public async Task RunAsync(CancellationToken aborted)
    {
        try
        {
            while (true)
            {
                // why: a zero-byte read waits for the next frame without holding a buffer.
                var first = await _webSocket.ReceiveAsync(Memory<byte>.Empty, aborted).ConfigureAwait(false);
                if (first.MessageType == WebSocketMessageType.Close)
                {
                    await OnPeerCloseAsync().ConfigureAwait(false);
                    return;
                }

                if (IsClosing || first.MessageType == WebSocketMessageType.Binary)
                {
                    if (!IsClosing)
                    {
                        Fault(WebSocketCloseStatus.InvalidMessageType, CloseReasons.BinaryNotSupported, "the channel carries UTF-8 JSON text messages only");
                    }

                    if (!await DiscardMessageAsync(first, aborted).ConfigureAwait(false))
                    {
                        await OnPeerCloseAsync().ConfigureAwait(false);
                        return;
                    }

                    continue;
                }

                var (message, closed) = await ReadMessageAsync(first, aborted).ConfigureAwait(false);
                if (closed)
                {
                    await OnPeerCloseAsync().ConfigureAwait(false);
                    return;
                }

                if (message is not null)
                {
                    Agent.Touch(_services.Time.GetUtcNow());
                    await HandleAsync(message).ConfigureAwait(false);
                }
            }
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode is WebSocketError.ConnectionClosedPrematurely or WebSocketError.InvalidState or WebSocketError.Faulted)
        {
            Log.PeerVanished(_services.Logger, ConnectionId, Agent.Id, ex.WebSocketErrorCode);
        }
        catch (WebSocketException ex)
        {
            Log.ProtocolError(_services.Logger, ConnectionId, Agent.Id, ex.Message);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            Log.PeerVanished(_services.Logger, ConnectionId, Agent.Id, WebSocketError.ConnectionClosedPrematurely);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            Log.PeerVanished(_services.Logger, ConnectionId, Agent.Id, WebSocketError.Faulted);
        }
        finally
        {
            FailPendingRequests();
        }
    }

    /// <summary>
    /// Assembles one text message (the first read already told its type), stopping as soon as it exceeds the limit,
    /// and decodes it. Returns null when the message was bad (the close is then queued).
    /// </summary>
    private async ValueTask<(Message? Message, bool PeerClosed)> ReadMessageAsync(ValueWebSocketReceiveResult first, CancellationToken aborted)
    {
        var max = _services.MaxMessageBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferBytes);
        var count = 0;
        try
        {
            var endOfMessage = first.EndOfMessage;
            while (!endOfMessage)
            {
                var usable = Math.Min(buffer.Length, max + 1);
                if (count == usable)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                    buffer.AsSpan(0, count).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                    usable = Math.Min(buffer.Length, max + 1);
                }

                var result = await _webSocket.ReceiveAsync(buffer.AsMemory(count, usable - count), aborted).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return (null, true);
                }

                count += result.Count;
                endOfMessage = result.EndOfMessage;
                if (count > max)
                {
                    Fault(WebSocketCloseStatus.MessageTooBig, CloseReasons.TooLarge, $"a message exceeded the maximum of {max} bytes");
                    return (null, false);
                }
            }

            var decoded = MessageCodec.Decode(buffer.AsSpan(0, count), max);
            if (!decoded.IsSuccess)
            {
                var status = decoded.Error switch
                {
                    DecodeError.TooLarge => WebSocketCloseStatus.MessageTooBig,
                    DecodeError.Malformed => WebSocketCloseStatus.InvalidPayloadData,
                    _ => WebSocketCloseStatus.PolicyViolation,
                };
                Fault(status, MessageCodec.GetCloseReason(decoded.Error), decoded.Detail ?? "");
                return (null, false);
            }

            Interlocked.Add(ref Agent.BytesReceived, count);
            return (decoded.Message, false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads and drops the rest of a message; false when the peer's close arrived instead.</summary>
    private async ValueTask<bool> DiscardMessageAsync(ValueWebSocketReceiveResult first, CancellationToken aborted)
    {
        if (first.EndOfMessage)
        {
            return true;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferBytes);
        try
        {
            while (true)
            {
                var result = await _webSocket.ReceiveAsync(buffer.AsMemory(), aborted).ConfigureAwait(false);
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

    private async ValueTask HandleAsync(Message message)
    {
        if (IsAwaitingHello)
        {
            if (message is HelloMessage hello)
            {
                await OnHelloAsync(hello).ConfigureAwait(false);
            }
            else
            {
                Fault(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, $"the first message must be 'hello', not '{KindOf(message)}'");
            }

            return;
        }

        if (IsClosing)
        {
            return;
        }

        switch (message)
        {
            case AckMessage ack:
                if (ack.UpToSeq is long upToSeq)
                {
                    _services.Delivery.Ack(Agent, upToSeq, DeliveryService.ViaPersistent);
                }

                break;
            case TaskStatusMessage status:
                _services.Delivery.RecordStatus(Agent, status);
                break;
            case TaskResultMessage or InventoryResultMessage:
                await OnResultAsync(message).ConfigureAwait(false);
                break;
            case HttpRequestMessage request:
                await OnHttpRequestAsync(request).ConfigureAwait(false);
                break;
            case HttpResponseMessage response:
                if (_pendingRequests is { } pending && pending.TryRemove(response.Id, out var completion))
                {
                    completion.TrySetResult(response);
                }

                break;
            case ErrorMessage error:
                Log.AgentError(_services.Logger, ConnectionId, Agent.Id, error.Code, error.Detail);
                break;
            case HelloMessage:
                Fault(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, "a second 'hello' on the same channel");
                break;
            default:
                Fault(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, $"'{KindOf(message)}' is sent by the server, not by an agent");
                break;
        }
    }

    private async ValueTask OnHelloAsync(HelloMessage hello)
    {
        if (hello.ProtocolVersion != ProtocolConstants.Version)
        {
            Fault(WebSocketCloseStatus.PolicyViolation, CloseReasons.UnsupportedVersion, $"protocol version {hello.ProtocolVersion} is not supported; this server speaks {ProtocolConstants.Version}");
            return;
        }

        if (!string.Equals(hello.AgentId, Agent.Id, StringComparison.Ordinal))
        {
            Fault(WebSocketCloseStatus.PolicyViolation, CloseReasons.BadCertificate, $"hello names agent '{hello.AgentId}' but the certificate is for '{Agent.Id}'");
            return;
        }

        if (hello.Role != ChannelRole.NotificationServer)
        {
            Fault(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, "this is a Notification Server; Client Task Agent channels go to a Task Server");
            return;
        }

        if (Interlocked.CompareExchange(ref _state, Active, AwaitingHello) != AwaitingHello)
        {
            return;
        }

        Agent.Route = ViaGateway is { } gateway ? AgentAuthenticator.CemRoute(gateway) : hello.Route;
        var replaced = _services.Registry.Activate(this);
        replaced?.BeginClose(WebSocketCloseStatus.NormalClosure, CloseReasons.Replaced, "a newer connection of this agent replaced this one");
        var policy = _services.Policy.GetPolicy(Agent);
        var welcome = new WelcomeMessage
        {
            ProtocolVersion = ProtocolConstants.Version,
            AgentId = Agent.Id,
            ServerName = _services.ServerName,
            ConnectionId = ConnectionId,
            MaxMessageBytes = _services.MaxMessageBytes,
            PolicyEtag = policy.Etag,
        };
        Log.Welcomed(_services.Logger, ConnectionId, Agent.Id, Agent.ComputerName, hello.LastReceivedSeq);
        await _services.Delivery.StartSessionAsync(this, welcome, hello.LastReceivedSeq).ConfigureAwait(false);
    }

    private async ValueTask OnResultAsync(Message result)
    {
        try
        {
            var receipt = await _services.Delivery.StoreResultAsync(Agent, result).ConfigureAwait(false);
            Send(new AckMessage { Keys = [receipt.IdempotencyKey] });
        }
        catch (ArgumentException ex)
        {
            Send(new ErrorMessage { Code = CloseReasons.Malformed, Detail = ex.Message, Fatal = false });
        }
    }

    private async ValueTask OnHttpRequestAsync(HttpRequestMessage request)
    {
        var headers = request.Headers is null ? null : new Dictionary<string, string>(request.Headers, StringComparer.OrdinalIgnoreCase);
        var body = request.Body is { } element ? System.Text.Encoding.UTF8.GetBytes(element.GetRawText()) : ReadOnlyMemory<byte>.Empty;
        var response = await _services.Api.HandleAsync(
            Agent,
            request.Method,
            request.Path,
            name => headers?.GetValueOrDefault(name),
            body).ConfigureAwait(false);
        Send(new HttpResponseMessage
        {
            Id = request.Id,
            Status = response.Status,
            Headers = response.Headers,
            Body = response.Body is { Length: > 0 } bytes ? ParseElement(bytes) : null,
        });
    }

    private static JsonElement ParseElement(byte[] utf8Json)
    {
        using var document = JsonDocument.Parse(utf8Json);
        return document.RootElement.Clone();
    }

    /// <summary>Sends an <c>http.request</c> to the agent and waits for its answer; null when the channel ends or time runs out.</summary>
    public async Task<HttpResponseMessage?> RequestAsync(string method, string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pending = LazyInitializer.EnsureInitialized(ref _pendingRequests, static () => new ConcurrentDictionary<long, TaskCompletionSource<HttpResponseMessage?>>());
        var id = Interlocked.Increment(ref _nextRequestId);
        var completion = new TaskCompletionSource<HttpResponseMessage?>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = completion;
        Send(new HttpRequestMessage { Id = id, Method = method, Path = path });
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            return await completion.Task.WaitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        finally
        {
            pending.TryRemove(id, out _);
        }
    }

    private void FailPendingRequests()
    {
        if (_pendingRequests is { } pending)
        {
            foreach (var (_, completion) in pending)
            {
                completion.TrySetResult(null);
            }
        }
    }

    /// <summary>Closes because of the agent's fault: a fatal <c>error</c>, then the close.</summary>
    private void Fault(WebSocketCloseStatus status, string code, string detail)
    {
        Log.Faulted(_services.Logger, ConnectionId, Agent.Id, code, detail);
        BeginClose(status, code, detail, sendError: true);
    }

    /// <summary>
    /// Starts closing: queues (after anything already queued) an optional fatal <c>error</c> and the close frame with the
    /// description <c>code: detail</c>. The receive loop ends when the agent answers; a housekeeping tick aborts the
    /// connection if it does not in time.
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

        Interlocked.Exchange(ref _closeDeadlineMs, _services.Time.GetUtcNow().Add(_services.CloseTimeout).ToUnixTimeMilliseconds());
        if (sendError)
        {
            Send(new ErrorMessage { Code = code, Detail = detail, Fatal = true });
        }

        Enqueue(new Outgoing(null, status, CloseDescription.Format(code, detail), null));
    }

    private async ValueTask OnPeerCloseAsync()
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _state, Closing);
        Enqueue(new Outgoing(null, _webSocket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, completion));
        await completion.Task.ConfigureAwait(false);
    }

    /// <summary>Aborts the connection at once (no close handshake).</summary>
    public void Abort() => _webSocket.Abort();

    /// <summary>Queues a message; it is sent after everything queued before it.</summary>
    public void Send(Message message) => SendPayload(MessageCodec.Encode(message));

    /// <summary>
    /// Queues a message that is already UTF-8 JSON. With <paramref name="offload"/>, an idle queue starts draining on the
    /// thread pool instead of the caller's thread, so a fan-out to thousands of channels spreads the TLS work over the cores.
    /// </summary>
    public void SendPayload(byte[] utf8Json, bool offload = false) => Enqueue(new Outgoing(utf8Json, null, null, null), offload);

    private void Enqueue(Outgoing item, bool offload = false)
    {
        lock (_sendLock)
        {
            if (_sending)
            {
                (_sendQueue ??= new Queue<Outgoing>()).Enqueue(item);
                return;
            }

            _sending = true;
        }

        if (offload)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Session.DrainAsync(state.Item), (Session: this, Item: item), preferLocal: false);
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
                await _webSocket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                Interlocked.Add(ref Agent.BytesSent, payload.Length);
            }
            else if (item.CloseStatus is { } status)
            {
                _closeSent = true;
                if (_webSocket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await _webSocket.CloseOutputAsync(status, item.CloseDescription, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // why: the peer is gone; the receive loop sees it too and ends the session.
            _closeSent = true;
            Log.SendFailed(_services.Logger, ConnectionId, Agent.Id, ex.GetType().Name);
            _webSocket.Abort();
        }
        finally
        {
            item.Completion?.TrySetResult();
        }
    }

    private static string KindOf(Message message) => message switch
    {
        HelloMessage => MessageKinds.Hello,
        WelcomeMessage => MessageKinds.Welcome,
        AckMessage => MessageKinds.Ack,
        PolicyPushMessage => MessageKinds.PolicyPush,
        TaskPushMessage => MessageKinds.TaskPush,
        TaskStatusMessage => MessageKinds.TaskStatus,
        TaskResultMessage => MessageKinds.TaskResult,
        InventoryRequestMessage => MessageKinds.InventoryRequest,
        InventoryResultMessage => MessageKinds.InventoryResult,
        HttpRequestMessage => MessageKinds.HttpRequest,
        HttpResponseMessage => MessageKinds.HttpResponse,
        TerminateMessage => MessageKinds.Terminate,
        ErrorMessage => MessageKinds.Error,
        _ => message.GetType().Name,
    };

    private readonly record struct Outgoing(byte[]? Payload, WebSocketCloseStatus? CloseStatus, string? CloseDescription, TaskCompletionSource? Completion);

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Channel {ConnectionId}: agent {AgentId} ({ComputerName}) said hello, last received seq {LastReceivedSeq}")]
        public static partial void Welcomed(ILogger logger, string connectionId, string agentId, string computerName, long lastReceivedSeq);

        [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "Channel {ConnectionId} of agent {AgentId} ended without a close handshake ({Error})")]
        public static partial void PeerVanished(ILogger logger, string connectionId, string agentId, WebSocketError error);

        [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "Channel {ConnectionId} of agent {AgentId} broke the WebSocket protocol: {Detail}")]
        public static partial void ProtocolError(ILogger logger, string connectionId, string agentId, string detail);

        [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Channel {ConnectionId} of agent {AgentId} is closed: {Code}: {Detail}")]
        public static partial void Faulted(ILogger logger, string connectionId, string agentId, string code, string detail);

        [LoggerMessage(EventId = 304, Level = LogLevel.Information, Message = "Channel {ConnectionId}: agent {AgentId} reported error {Code}: {Detail}")]
        public static partial void AgentError(ILogger logger, string connectionId, string agentId, string code, string detail);

        [LoggerMessage(EventId = 305, Level = LogLevel.Debug, Message = "Channel {ConnectionId} of agent {AgentId}: a send failed ({Error}); the connection is aborted")]
        public static partial void SendFailed(ILogger logger, string connectionId, string agentId, string error);
    }
}
