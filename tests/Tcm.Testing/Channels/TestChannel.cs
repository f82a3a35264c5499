using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Tcm.Protocol;

namespace Tcm.Testing;

/// <summary>
/// The agent's side of a TCM channel, straight to a Notification Server or through a gateway, for tests that speak the
/// protocol themselves: every send and receive has a deadline (<see cref="Eventually.DefaultDeadline"/> unless given), a
/// close from the server is answered as a real agent answers it.
/// </summary>
public sealed class TestChannel : IAsyncDisposable
{
    /// <summary>The response header that names why a server or gateway refused the channel.</summary>
    public const string RefusalHeader = "X-Tcm-Refusal";

    private readonly byte[] _buffer = new byte[1024 * 1024];
    private readonly HttpMessageInvoker? _ownedInvoker;

    private TestChannel(ClientWebSocket webSocket, HttpMessageInvoker? ownedInvoker)
    {
        WebSocket = webSocket;
        _ownedInvoker = ownedInvoker;
    }

    /// <summary>The socket itself, for tests that send or read what the helpers do not.</summary>
    public ClientWebSocket WebSocket { get; }

    /// <summary>
    /// Opens a channel at <paramref name="uri"/> (<c>wss://</c>) over <paramref name="invoker"/> with HTTP
    /// <paramref name="httpVersion"/> exactly, without saying hello. A refusal throws <see cref="ChannelRefusedException"/>
    /// with the status and the refusal code.
    /// </summary>
    /// <param name="uri">The channel's <c>wss://</c> URL.</param>
    /// <param name="invoker">Carries the upgrade: its handler holds the TLS trust and the client certificate.</param>
    /// <param name="httpVersion">HTTP/1.1 or HTTP/2, asked for exactly.</param>
    /// <param name="ownsInvoker">Whether the channel disposes <paramref name="invoker"/> (a refused channel disposes it at once).</param>
    /// <param name="cancellationToken">Cancels the opening, which also ends after <see cref="Eventually.DefaultDeadline"/>.</param>
    /// <param name="configure">Changes the socket's options before it connects (keep-alive, headers); by default it never pings.</param>
    public static async Task<TestChannel> OpenAsync(
        Uri uri, HttpMessageInvoker invoker, Version httpVersion, bool ownsInvoker, CancellationToken cancellationToken = default, Action<ClientWebSocketOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(ProtocolConstants.SubProtocol);
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.HttpVersion = httpVersion;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        configure?.Invoke(socket.Options);
        using var deadline = new CancellationTokenSource(Eventually.DefaultDeadline, TimeProvider.System);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await socket.ConnectAsync(uri, invoker, timeout.Token);
        }
        catch (WebSocketException ex)
        {
            var code = socket.HttpResponseHeaders is { } headers && headers.TryGetValue(RefusalHeader, out var values) ? values.FirstOrDefault() : null;
            var status = socket.HttpStatusCode;
            socket.Dispose();
            if (ownsInvoker)
            {
                invoker.Dispose();
            }

            throw new ChannelRefusedException(status, code, ex);
        }

        return new TestChannel(socket, ownsInvoker ? invoker : null);
    }

    /// <summary>Sends one protocol message.</summary>
    public Task SendAsync(Message message) => SendRawAsync(MessageCodec.Encode(message));

    /// <summary>Sends <paramref name="text"/> as one text frame, whatever it is.</summary>
    public Task SendTextAsync(string text) => SendRawAsync(Encoding.UTF8.GetBytes(text));

    /// <summary>Sends <paramref name="bytes"/> as one message of <paramref name="type"/>.</summary>
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
        var clock = TimeProvider.System;
        var started = clock.GetTimestamp();
        var deadline = timeout ?? Eventually.DefaultDeadline;
        while (true)
        {
            var remaining = deadline - clock.GetElapsedTime(started);
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

    /// <summary>The next message, or the close (status and description) when the peer closes; a close is answered.</summary>
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
    public async Task<Tcm.Protocol.HttpResponseMessage> RequestAsync(long id, string method, string path, IReadOnlyDictionary<string, string>? headers = null, JsonElement? body = null)
    {
        await SendAsync(new Tcm.Protocol.HttpRequestMessage { Id = id, Method = method, Path = path, Headers = headers, Body = body });
        return await ReceiveAsync<Tcm.Protocol.HttpResponseMessage>(r => r.Id == id);
    }

    /// <inheritdoc />
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
        _ownedInvoker?.Dispose();
    }
}

/// <summary>A server or gateway refused to open the channel: the HTTP status and the refusal code it gave.</summary>
public sealed class ChannelRefusedException(HttpStatusCode status, string? code, Exception? inner = null)
    : Exception($"channel refused: {(int)status} {code}{(inner is null ? "" : $" ({inner.Message} {inner.InnerException?.Message})")}", inner)
{
    /// <summary>The HTTP status of the refusal.</summary>
    public HttpStatusCode Status { get; } = status;

    /// <summary>The refusal code (header <see cref="TestChannel.RefusalHeader"/>), when there was one.</summary>
    public string? Code { get; } = code;
}
