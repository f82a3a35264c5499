using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Runtime.CompilerServices;
using Tcm.Protocol;
using HttpResponseMessage = System.Net.Http.HttpResponseMessage;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// An agent as a CEM client sees it: registered with a Notification Server over HTTP (its own key, a CSR, a real certificate),
/// then talking through a gateway with raw <see cref="HttpClient"/> and <see cref="ClientWebSocket"/>.
/// </summary>
internal sealed class CemAgent : IDisposable
{
    private CemAgent(string id, X509Certificate2 certificate, string backend)
    {
        Id = id;
        Certificate = certificate;
        Backend = backend;
    }

    public string Id { get; }
    public X509Certificate2 Certificate { get; }

    /// <summary><c>host:port</c> of the NS it registered with.</summary>
    public string Backend { get; }

    public static async Task<CemAgent> RegisterAsync(NotificationServerHost ns, string computerName)
    {
        var registered = await ns.RegisterAsync(computerName);
        return new CemAgent(registered.Id, registered.Certificate, new Uri(ns.Info.PublicUrl).Authority);
    }

    /// <summary>A handler that trusts only <paramref name="trust"/> and presents <paramref name="clientCertificate"/>; counts its TCP connections.</summary>
    public static SocketsHttpHandler CreateHandler(X509Certificate2 trust, X509Certificate2? clientCertificate, StrongBox<int>? connections = null)
    {
        var handler = TestCertificates.CreateHandler(trust, clientCertificate);
        if (connections is not null)
        {
            handler.ConnectCallback = async (context, ct) =>
            {
                Interlocked.Increment(ref connections.Value);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            };
        }

        return handler;
    }

    /// <summary>An HTTP client through <paramref name="gateway"/> to <paramref name="backend"/> (default: its own NS): paths are appended to the relay base.</summary>
    public CemHttp Through(GatewayHost gateway, string? backend = null, X509Certificate2? certificate = null, Version? version = null) =>
        new(new HttpClient(CreateHandler(gateway.Trust, certificate ?? Certificate))
        {
            DefaultRequestVersion = version ?? HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        }, GatewayPaths.RelayBase(gateway.Info.HostAndPort, backend ?? Backend).ToString());

    /// <summary>Opens the channel through the gateway (no hello yet); a refusal throws <see cref="ChannelRefused"/> with the status, code and body.</summary>
    public async Task<CemChannel> OpenChannelAsync(GatewayHost gateway, Version version, HttpMessageInvoker? invoker = null, string? backend = null, string path = TcmPaths.Channel)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(ProtocolConstants.SubProtocol);
        socket.Options.HttpVersion = version;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var owned = invoker is null;
        invoker ??= new HttpMessageInvoker(CreateHandler(gateway.Trust, Certificate));
        var uri = new Uri(GatewayPaths.RelayBase(gateway.Info.HostAndPort, backend ?? Backend).ToString().Replace("https://", "wss://", StringComparison.Ordinal) + path);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await socket.ConnectAsync(uri, invoker, timeout.Token);
        }
        catch (WebSocketException ex)
        {
            var code = socket.HttpResponseHeaders is { } headers && headers.TryGetValue("X-Tcm-Refusal", out var values) ? values.FirstOrDefault() : null;
            var status = socket.HttpStatusCode;
            socket.Dispose();
            if (owned)
            {
                invoker.Dispose();
            }

            throw new ChannelRefused(status, code, ex);
        }

        return new CemChannel(socket, owned ? invoker : null);
    }

    /// <summary>Opens the channel, says hello (route cem) and returns the welcome.</summary>
    public async Task<(CemChannel Channel, WelcomeMessage Welcome)> ConnectAsync(GatewayHost gateway, Version version, long lastReceivedSeq = 0, HttpMessageInvoker? invoker = null)
    {
        var channel = await OpenChannelAsync(gateway, version, invoker);
        await channel.SendAsync(new HelloMessage { ProtocolVersion = ProtocolConstants.Version, AgentId = Id, LastReceivedSeq = lastReceivedSeq, Route = "cem" });
        return (channel, await channel.ReceiveAsync<WelcomeMessage>());
    }

    public void Dispose() => Certificate.Dispose();
}

/// <summary>An HTTP client whose paths go after a relay base.</summary>
internal sealed class CemHttp(HttpClient client, string relayBase) : IDisposable
{
    public HttpClient Client { get; } = client;

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery) => Client.GetAsync(relayBase + pathAndQuery);

    public Task<HttpResponseMessage> PostJsonAsync(string pathAndQuery, string json) =>
        Client.PostAsync(relayBase + pathAndQuery, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    public void Dispose() => Client.Dispose();
}

internal sealed class ChannelRefused(HttpStatusCode status, string? code, Exception? inner = null)
    : Exception($"channel refused: {(int)status} {code}{(inner is null ? "" : $" ({inner.Message} {inner.InnerException?.Message})")}", inner)
{
    public HttpStatusCode Status { get; } = status;
    public string? Code { get; } = code;
}

/// <summary>The agent side of a channel through the gateway.</summary>
internal sealed class CemChannel(ClientWebSocket socket, HttpMessageInvoker? ownedInvoker) : IAsyncDisposable
{
    private readonly byte[] _buffer = new byte[512 * 1024];

    public ClientWebSocket Socket { get; } = socket;

    public async Task SendAsync(Message message)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Socket.SendAsync(MessageCodec.Encode(message), WebSocketMessageType.Text, true, timeout.Token);
    }

    public async Task SendTextAsync(string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
    }

    /// <summary>The next message, or the close (status and description) when the peer closes.</summary>
    public async Task<(Message? Message, WebSocketCloseStatus? Status, string? Description)> ReceiveOrCloseAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var count = 0;
        while (true)
        {
            var result = await Socket.ReceiveAsync(_buffer.AsMemory(count), cancel.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (null, Socket.CloseStatus, Socket.CloseStatusDescription);
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                var decoded = MessageCodec.Decode(_buffer.AsSpan(0, count), _buffer.Length);
                return (decoded.Message ?? throw new InvalidOperationException(decoded.Detail), null, null);
            }
        }
    }

    public async Task<T> ReceiveAsync<T>(Func<T, bool>? predicate = null, TimeSpan? timeout = null) where T : Message
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no {typeof(T).Name} arrived in time");
            }

            var (message, status, description) = await ReceiveOrCloseAsync(remaining);
            if (message is null)
            {
                throw new InvalidOperationException($"channel closed: {status} {description}");
            }

            if (message is T typed && (predicate is null || predicate(typed)))
            {
                return typed;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "test done", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        Socket.Dispose();
        ownedInvoker?.Dispose();
    }
}
