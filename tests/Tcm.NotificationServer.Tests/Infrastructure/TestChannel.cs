using System.Net;
using System.Net.WebSockets;
using Tcm.Protocol;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>The agent side of a channel, with helpers that wait with a deadline.</summary>
internal sealed class TestChannel(ClientWebSocket webSocket, HttpMessageInvoker invoker) : IAsyncDisposable
{
    private readonly byte[] _buffer = new byte[1024 * 1024];

    public ClientWebSocket WebSocket { get; } = webSocket;

    public HttpStatusCode RefusalStatus => WebSocket.HttpStatusCode;

    public string? RefusalCode =>
        WebSocket.HttpResponseHeaders is { } headers && headers.TryGetValue("X-Tcm-Refusal", out var values) ? values.FirstOrDefault() : null;

    public Task SendAsync(Message message) => SendRawAsync(MessageCodec.Encode(message));

    public async Task SendRawAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Text)
    {
        using var timeout = new CancellationTokenSource(Eventually.DefaultDeadline);
        await WebSocket.SendAsync(bytes, type, endOfMessage: true, timeout.Token);
    }

    /// <summary>The next message; fails on close or timeout.</summary>
    public async Task<Message> ReceiveAsync(TimeSpan? timeout = null)
    {
        var (message, closeStatus, description) = await ReceiveOrCloseAsync(timeout);
        return message ?? throw new InvalidOperationException($"channel closed: {closeStatus} {description}");
    }

    /// <summary>Skips messages until one of type <typeparamref name="T"/> that satisfies <paramref name="predicate"/>.</summary>
    public async Task<T> ReceiveAsync<T>(Func<T, bool>? predicate = null, TimeSpan? timeout = null)
        where T : Message
    {
        var deadline = DateTime.UtcNow + (timeout ?? Eventually.DefaultDeadline);
        while (true)
        {
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no {typeof(T).Name} arrived in time");
            }

            var message = await ReceiveAsync(remaining);
            if (message is T typed && (predicate is null || predicate(typed)))
            {
                return typed;
            }
        }
    }

    public async Task<(Message? Message, WebSocketCloseStatus? Status, string? Description)> ReceiveOrCloseAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? Eventually.DefaultDeadline);
        var count = 0;
        while (true)
        {
            var result = await WebSocket.ReceiveAsync(_buffer.AsMemory(count), cancel.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (WebSocket.State == WebSocketState.CloseReceived)
                {
                    await WebSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancel.Token);
                }

                return (null, WebSocket.CloseStatus, WebSocket.CloseStatusDescription);
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                var decoded = MessageCodec.Decode(_buffer.AsSpan(0, count), _buffer.Length);
                return (decoded.Message ?? throw new InvalidOperationException(decoded.Detail), null, null);
            }
        }
    }

    /// <summary>Reads until the server closes; returns every message before the close, and the close.</summary>
    public async Task<(List<Message> Before, WebSocketCloseStatus? Status, string? Description)> WaitForCloseAsync(TimeSpan? timeout = null)
    {
        var before = new List<Message>();
        while (true)
        {
            var (message, status, description) = await ReceiveOrCloseAsync(timeout);
            if (message is null)
            {
                return (before, status, description);
            }

            before.Add(message);
        }
    }

    /// <summary>Sends an <c>http.request</c> over the channel and waits for its response.</summary>
    public async Task<Tcm.Protocol.HttpResponseMessage> RequestAsync(long id, string method, string path, IReadOnlyDictionary<string, string>? headers = null, System.Text.Json.JsonElement? body = null)
    {
        await SendAsync(new Tcm.Protocol.HttpRequestMessage { Id = id, Method = method, Path = path, Headers = headers, Body = body });
        return await ReceiveAsync<Tcm.Protocol.HttpResponseMessage>(r => r.Id == id);
    }

    public async ValueTask DisposeAsync()
    {
        if (WebSocket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await WebSocket.CloseAsync(WebSocketCloseStatus.NormalClosure, "test done", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        WebSocket.Dispose();
        invoker.Dispose();
    }
}
