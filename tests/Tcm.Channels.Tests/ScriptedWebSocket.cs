using System.Net.WebSockets;
using System.Threading.Channels;

namespace Tcm.Channels.Tests;

/// <summary>
/// A WebSocket in memory: the test queues the frames the peer sends, and sees every message and close the channel sends. Sends can be
/// held, to see that the channel never has two outstanding.
/// </summary>
internal sealed class ScriptedWebSocket : WebSocket
{
    private readonly Channel<(byte[] Data, WebSocketMessageType Type)> _incoming = Channel.CreateUnbounded<(byte[], WebSocketMessageType)>();
    private readonly Lock _gate = new();
    private (byte[] Data, WebSocketMessageType Type, int Offset)? _current;
    private WebSocketState _state = WebSocketState.Open;
    private int _sendsInFlight;

    public List<string> Sent { get; } = [];

    public int MostSendsInFlight { get; private set; }

    public TaskCompletionSource? HoldSends { get; set; }

    public bool Aborted { get; private set; }

    public WebSocketCloseStatus? SentCloseStatus { get; private set; }

    public string? SentCloseDescription { get; private set; }

    public TaskCompletionSource CloseSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override WebSocketCloseStatus? CloseStatus => _closeReceived;

    public override string? CloseStatusDescription => null;

    public override WebSocketState State => _state;

    public override string? SubProtocol => null;

    private WebSocketCloseStatus? _closeReceived;

    /// <summary>What was sent so far, copied (sends may go on while the test reads).</summary>
    public List<string> SentSoFar()
    {
        lock (_gate)
        {
            return [.. Sent];
        }
    }

    /// <summary>Messages the peer sent that the channel has not started to read.</summary>
    public int Unread => _incoming.Reader.Count;

    public void PeerSends(byte[] data, WebSocketMessageType type = WebSocketMessageType.Text) => _incoming.Writer.TryWrite((data, type));

    public void PeerCloses() => _incoming.Writer.TryWrite(([], WebSocketMessageType.Close));

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_current is null)
        {
            (byte[] Data, WebSocketMessageType Type) next;
            try
            {
                next = await _incoming.Reader.ReadAsync(cancellationToken);
            }
            catch (ChannelClosedException)
            {
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely);
            }

            var (data, type) = next;
            if (type == WebSocketMessageType.Close)
            {
                _closeReceived = WebSocketCloseStatus.NormalClosure;
                _state = _state == WebSocketState.CloseSent ? WebSocketState.Closed : WebSocketState.CloseReceived;
                return new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true);
            }

            _current = (data, type, 0);
        }

        var (bytes, kind, offset) = _current.Value;
        var count = Math.Min(buffer.Length, bytes.Length - offset);
        bytes.AsMemory(offset, count).CopyTo(buffer);
        offset += count;
        var end = offset == bytes.Length;
        _current = end && buffer.Length > 0 ? null : (bytes, kind, offset);
        return new ValueWebSocketReceiveResult(count, kind, end && buffer.Length > 0);
    }

    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
        throw new NotSupportedException();

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _sendsInFlight++;
            MostSendsInFlight = Math.Max(MostSendsInFlight, _sendsInFlight);
        }

        try
        {
            if (HoldSends is { } hold)
            {
                await hold.Task;
            }

            lock (_gate)
            {
                Sent.Add(System.Text.Encoding.UTF8.GetString(buffer.Span));
            }
        }
        finally
        {
            lock (_gate)
            {
                _sendsInFlight--;
            }
        }
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        SentCloseStatus = closeStatus;
        SentCloseDescription = statusDescription;
        _state = _state == WebSocketState.CloseReceived ? WebSocketState.Closed : WebSocketState.CloseSent;
        CloseSent.TrySetResult();
        return Task.CompletedTask;
    }

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override void Abort()
    {
        Aborted = true;
        _state = WebSocketState.Aborted;
        _incoming.Writer.TryComplete();
    }

    public override void Dispose()
    {
    }
}
