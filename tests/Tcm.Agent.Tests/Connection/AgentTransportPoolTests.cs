using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Tcm.Agent.Network;
using Tcm.Agent.Status;

namespace Tcm.Agent.Tests.Connection;

/// <summary>
/// The agent's two handlers (<see cref="AgentTransport.Invoker"/> for requests, <see cref="AgentTransport.ChannelInvoker"/> for the
/// channel) against real Kestrel on 127.0.0.1 over TLS and HTTP/2, counting the connections Kestrel holds open. The idle timeouts are
/// a second here, so the pools scan every second; the product's are <see cref="AgentTransport.RequestIdleTimeout"/> and
/// <see cref="AgentTransport.ChannelIdleTimeout"/>.
/// </summary>
public sealed class AgentTransportPoolTests : IAsyncLifetime
{
    private readonly X509Certificate2 _ca = TestCertificates.Ca();
    private WebApplication? _app;
    private Uri _base = null!;
    private Uri _channelUri = null!;
    private int _accepted;
    private int _open;

    private static TimeSpan ShortIdle => TimeSpan.FromSeconds(1);

    private static TimeSpan Deadline => TimeSpan.FromSeconds(20);

    public async Task InitializeAsync()
    {
        int port;
        (_app, port) = await LoopbackKestrel.StartAsync(_ca, HttpProtocols.Http1AndHttp2, EchoOrAnswerAsync, listen =>
        {
            // Before TLS: sees each TCP connection from its accept to its close.
            listen.Use(next => async connection =>
            {
                Interlocked.Increment(ref _accepted);
                Interlocked.Increment(ref _open);
                try
                {
                    await next(connection);
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            });
        }, webSockets: true);
        _base = new Uri($"https://127.0.0.1:{port}/");
        _channelUri = new Uri($"wss://127.0.0.1:{port}/channel");
    }

    public async Task DisposeAsync()
    {
        await LoopbackKestrel.StopAsync(_app);
        _ca.Dispose();
    }

    [Fact]
    public async Task ARequest_TakesItsOwnConnection_ClosedOnceIdle_WhileTheChannelStaysUp()
    {
        using var transport = NewTransport();
        using var channel = await OpenChannelAsync(transport);
        Volatile.Read(ref _open).Should().Be(1, "the channel is one connection");

        var answer = await transport.SendAsync(HttpMethod.Get, new Uri(_base, "hello"), null, null, TimeProvider.System, Deadline, CancellationToken.None);

        answer.Status.Should().Be(200);
        Volatile.Read(ref _accepted).Should().Be(2, "a request goes through the requests' handler, not over the channel's connection");
        await Eventually.WaitAsync(() => Volatile.Read(ref _open) == 1, Deadline, "the request's idle connection closed by the agent");
        (await EchoAsync(channel, "still up")).Should().Be("still up", "a live channel is never idle, whatever its handler's timeout");
        Volatile.Read(ref _accepted).Should().Be(2);
    }

    [Fact]
    public async Task TheChannelsConnection_ClosedOnceIdle_AfterTheChannelCloses()
    {
        using var transport = NewTransport();
        using (var channel = await OpenChannelAsync(transport))
        {
            (await EchoAsync(channel, "hello")).Should().Be("hello");
            await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }

        // An HTTP/2 channel leaves its connection pooled when it closes: the agent must not hold it (an open file) for ever.
        await Eventually.WaitAsync(() => Volatile.Read(ref _open) == 0, Deadline, "the closed channel's idle connection closed by the agent");
    }

    [Fact]
    public void TheChannelsHandler_ScansItsPoolNoMoreOftenThanAnUnboundedPool_WhileRequestsStillDropIdleSockets()
    {
        // .NET's pool manager scans every idle timeout / 4, and every 30 s when the timeout is infinite.
        (AgentTransport.ChannelIdleTimeout / 4).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(30));
        AgentTransport.ChannelIdleTimeout.Should().NotBe(Timeout.InfiniteTimeSpan, "a closed channel's connection is still closed once idle");
        AgentTransport.RequestIdleTimeout.Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(15), "an HTTP-only agent holds no socket between polls");
    }

    private AgentTransport NewTransport() =>
        new(new OsNetwork(), _ca.ExportCertificatePem(), clientCertificate: null, new AgentCounters(), HttpVersion.Version20, Deadline,
            TrafficPurpose.Management, requestIdleTimeout: ShortIdle, channelIdleTimeout: ShortIdle);

    private async Task<ClientWebSocket> OpenChannelAsync(AgentTransport transport)
    {
        var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var timeout = new CancellationTokenSource(Deadline);
        await socket.ConnectAsync(_channelUri, transport.ChannelInvoker, timeout.Token);
        return socket;
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string text)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[256];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    private static async Task EchoOrAnswerAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await context.Response.WriteAsync("hello");
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[256];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
        }
    }
}
