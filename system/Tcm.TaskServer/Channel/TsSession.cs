using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Tcm.Protocol;
using Tcm.TaskServer.Agents;

namespace Tcm.TaskServer.Channel;

/// <summary>
/// One Client Task Agent channel: hello (role <c>ts</c>) and welcome, re-sent pushes, acks, task statuses and results (stored once,
/// then acknowledged with <c>ack.keys</c>). Idle, it holds no buffer (zero-byte reads). Sends are queued and leave in order.
/// </summary>
internal sealed partial class TsSession
{
    private const int InitialReceiveBufferBytes = 4096;

    private readonly WebSocket _socket;
    private readonly TsChannelServices _services;
    private readonly Lock _sendLock = new();
    private readonly Queue<(byte[]? Payload, WebSocketCloseStatus? Close, string? Description)> _queue = new();
    private bool _sending;
    private bool _closeSent;
    private int _closing;

    public TsSession(WebSocket socket, TsAgent agent, string connectionId, TsChannelServices services)
    {
        _socket = socket;
        Agent = agent;
        ConnectionId = connectionId;
        _services = services;
    }

    public TsAgent Agent { get; }

    public string ConnectionId { get; }

    /// <summary>Set once the welcome and the re-sent pushes are queued: new pushes may follow.</summary>
    public bool Ready { get; set; }

    /// <summary>Runs the channel until it closes. Never throws for a peer that goes away.</summary>
    public async Task RunAsync(CancellationToken aborted)
    {
        var helloSeen = false;
        try
        {
            using (var helloTimeout = CancellationTokenSource.CreateLinkedTokenSource(aborted))
            {
                helloTimeout.CancelAfter(_services.Options.HelloTimeout);
                Message? first;
                try
                {
                    first = await ReceiveAsync(helloTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    await FaultAsync(WebSocketCloseStatus.PolicyViolation, CloseReasons.HelloTimeout, $"no hello within {_services.Options.HelloTimeout.TotalSeconds:0} s").ConfigureAwait(false);
                    return;
                }

                if (first is null)
                {
                    return;
                }

                if (!await OnHelloAsync(first).ConfigureAwait(false))
                {
                    return;
                }

                helloSeen = true;
            }

            while (await ReceiveAsync(aborted).ConfigureAwait(false) is { } message)
            {
                await HandleAsync(message).ConfigureAwait(false);
            }

            Enqueue((null, _socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null));
        }
        catch (ChannelFault fault)
        {
            await FaultAsync(fault.Status, fault.Code, fault.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            Log.PeerVanished(_services.Logger, ConnectionId, Agent.Id, ex.GetType().Name);
        }
        finally
        {
            if (helloSeen)
            {
                _services.Delivery.EndSession(Agent, this);
            }
        }
    }

    private async Task<bool> OnHelloAsync(Message first)
    {
        if (first is not HelloMessage hello)
        {
            await FaultAsync(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, "the first message must be 'hello'").ConfigureAwait(false);
            return false;
        }

        if (hello.ProtocolVersion != ProtocolConstants.Version)
        {
            await FaultAsync(WebSocketCloseStatus.PolicyViolation, CloseReasons.UnsupportedVersion, $"protocol version {hello.ProtocolVersion} is not supported; this server speaks {ProtocolConstants.Version}").ConfigureAwait(false);
            return false;
        }

        if (!string.Equals(hello.AgentId, Agent.Id, StringComparison.Ordinal))
        {
            await FaultAsync(WebSocketCloseStatus.PolicyViolation, CloseReasons.BadCertificate, $"hello names agent '{hello.AgentId}' but the certificate is for '{Agent.Id}'").ConfigureAwait(false);
            return false;
        }

        if (hello.Role != ChannelRole.TaskServer)
        {
            await FaultAsync(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, "this is a Task Server; the core agent's channel goes to the Notification Server").ConfigureAwait(false);
            return false;
        }

        var welcome = new WelcomeMessage
        {
            ProtocolVersion = ProtocolConstants.Version,
            AgentId = Agent.Id,
            ServerName = _services.ServerName,
            ConnectionId = ConnectionId,
            MaxMessageBytes = _services.Options.MaxMessageBytes,
        };
        Log.Welcomed(_services.Logger, ConnectionId, Agent.Id, hello.LastReceivedSeq);
        await _services.Delivery.StartSessionAsync(Agent, this, welcome, hello.LastReceivedSeq).ConfigureAwait(false);
        return true;
    }

    private async ValueTask HandleAsync(Message message)
    {
        switch (message)
        {
            case AckMessage { UpToSeq: long upToSeq }:
                await _services.Delivery.AckAsync(Agent, upToSeq, TaskDelivery.ViaPersistent).ConfigureAwait(false);
                break;
            case AckMessage:
                break;
            case TaskStatusMessage status:
                await _services.Delivery.RecordStatusAsync(Agent, status, TaskDelivery.ViaPersistent).ConfigureAwait(false);
                break;
            case TaskResultMessage or InventoryResultMessage:
                try
                {
                    var receipt = await _services.Delivery.StoreResultAsync(Agent, message).ConfigureAwait(false);
                    Send(new AckMessage { Keys = [receipt.IdempotencyKey] });
                }
                catch (ArgumentException ex)
                {
                    Send(new ErrorMessage { Code = CloseReasons.Malformed, Detail = ex.Message, Fatal = false });
                }

                break;
            case Tcm.Protocol.HttpRequestMessage request:
                var body = request.Body is { } element ? Encoding.UTF8.GetBytes(element.GetRawText()) : ReadOnlyMemory<byte>.Empty;
                var response = await _services.Api.HandleAsync(Agent, request.Method, request.Path, body, TaskDelivery.ViaPersistent).ConfigureAwait(false);
                Send(new Tcm.Protocol.HttpResponseMessage
                {
                    Id = request.Id,
                    Status = response.Status,
                    Headers = response.Headers,
                    Body = response.Body is { Length: > 0 } bytes ? System.Text.Json.JsonDocument.Parse(bytes).RootElement.Clone() : null,
                });
                break;
            case Tcm.Protocol.HttpResponseMessage or ErrorMessage:
                break;
            case HelloMessage:
                throw new ChannelFault(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, "a second 'hello' on the same channel");
            default:
                throw new ChannelFault(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, $"'{message.GetType().Name}' is sent by the server, not by an agent");
        }

        await ValueTask.CompletedTask.ConfigureAwait(false);
    }

    private async ValueTask<Message?> ReceiveAsync(CancellationToken ct)
    {
        // why: a zero-byte read waits for the next frame without holding a buffer.
        var first = await _socket.ReceiveAsync(Memory<byte>.Empty, ct).ConfigureAwait(false);
        if (first.MessageType == WebSocketMessageType.Close)
        {
            return null;
        }

        if (first.MessageType == WebSocketMessageType.Binary)
        {
            throw new ChannelFault(WebSocketCloseStatus.InvalidMessageType, CloseReasons.BinaryNotSupported, "the channel carries UTF-8 JSON text only");
        }

        var max = _services.Options.MaxMessageBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferBytes);
        var count = 0;
        try
        {
            var end = first.EndOfMessage;
            while (!end)
            {
                if (count == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
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
                end = result.EndOfMessage;
                if (count > max)
                {
                    throw new ChannelFault(WebSocketCloseStatus.MessageTooBig, CloseReasons.TooLarge, $"a message exceeded the maximum of {max} bytes");
                }
            }

            var decoded = MessageCodec.Decode(buffer.AsSpan(0, count), max);
            if (!decoded.IsSuccess)
            {
                var status = decoded.Error == DecodeError.Malformed ? WebSocketCloseStatus.InvalidPayloadData : WebSocketCloseStatus.PolicyViolation;
                throw new ChannelFault(status, MessageCodec.GetCloseReason(decoded.Error), decoded.Detail ?? "");
            }

            return decoded.Message;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Task FaultAsync(WebSocketCloseStatus status, string code, string detail)
    {
        Log.Faulted(_services.Logger, ConnectionId, Agent.Id, code, detail);
        BeginClose(status, code, detail, sendError: true);
        return Task.CompletedTask;
    }

    /// <summary>Queues an optional fatal error and the close frame (<c>code: detail</c>) after everything already queued.</summary>
    public void BeginClose(WebSocketCloseStatus status, string code, string detail, bool sendError = false)
    {
        if (Interlocked.Exchange(ref _closing, 1) == 1)
        {
            return;
        }

        if (sendError)
        {
            Send(new ErrorMessage { Code = code, Detail = detail, Fatal = true });
        }

        var description = $"{code}: {detail}";
        while (Encoding.UTF8.GetByteCount(description) > 123)
        {
            description = description[..^1];
        }

        Enqueue((null, status, description));
    }

    /// <summary>Queues a message.</summary>
    public void Send(Message message) => SendPayload(MessageCodec.Encode(message));

    /// <summary>Queues a message that is already UTF-8 JSON.</summary>
    public void SendPayload(byte[] payload) => Enqueue((payload, null, null));

    private void Enqueue((byte[]? Payload, WebSocketCloseStatus? Close, string? Description) item)
    {
        lock (_sendLock)
        {
            _queue.Enqueue(item);
            if (_sending)
            {
                return;
            }

            _sending = true;
        }

        _ = DrainAsync();
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            (byte[]? Payload, WebSocketCloseStatus? Close, string? Description) item;
            lock (_sendLock)
            {
                if (!_queue.TryDequeue(out item))
                {
                    _sending = false;
                    return;
                }
            }

            try
            {
                if (_closeSent)
                {
                    continue;
                }

                if (item.Payload is { } payload)
                {
                    await _socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                }
                else if (item.Close is { } status)
                {
                    _closeSent = true;
                    if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(status, item.Description, CancellationToken.None).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                _closeSent = true;
                _socket.Abort();
            }
        }
    }

    private sealed class ChannelFault(WebSocketCloseStatus status, string code, string message) : Exception(message)
    {
        public WebSocketCloseStatus Status { get; } = status;
        public string Code { get; } = code;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "TS channel {ConnectionId}: agent {AgentId} said hello, last received seq {LastReceivedSeq}")]
        public static partial void Welcomed(ILogger logger, string connectionId, string agentId, long lastReceivedSeq);

        [LoggerMessage(EventId = 2201, Level = LogLevel.Debug, Message = "TS channel {ConnectionId} of agent {AgentId} ended without a close handshake ({Error})")]
        public static partial void PeerVanished(ILogger logger, string connectionId, string agentId, string error);

        [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "TS channel {ConnectionId} of agent {AgentId} is closed: {Code}: {Detail}")]
        public static partial void Faulted(ILogger logger, string connectionId, string agentId, string code, string detail);
    }
}
