using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Tcm.Agent.Network;
using Tcm.Agent.Status;
using Tcm.Channels.Framing;

namespace Tcm.Agent.Tests.Connection;

/// <summary>
/// <see cref="PingedStream"/>'s reads over a real HTTP/2 WebSocket stream (extended CONNECT to Kestrel on 127.0.0.1, TLS): when the
/// agent's close crosses the server's, .NET 10's WebSocket reads twice at once (its receive and its close each wait for the server's
/// end), which an HTTP/2 stream does not survive; the stream passes the reads on one at a time. The server here writes the WebSocket's
/// bytes itself, so that its close frame arrives in two parts and the crossing is forced, not waited for.
/// </summary>
public sealed class PingedStreamCloseTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly X509Certificate2 _ca = TestCertificates.Ca();
    private readonly TaskCompletionSource<Stream> _serverStream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _serverDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;
    private Uri _channelUri = null!;

    public async Task InitializeAsync()
    {
        int port;
        (_app, port) = await LoopbackKestrel.StartAsync(_ca, HttpProtocols.Http2, AcceptAsync);
        _channelUri = new Uri($"https://127.0.0.1:{port}/channel");
    }

    public async Task DisposeAsync()
    {
        _serverDone.TrySetResult();
        await LoopbackKestrel.StopAsync(_app);
        _ca.Dispose();
    }

    [Fact]
    public async Task TheAgentsCloseCrossingTheServers_TheWebSocketsTwoReadsGoOneAtATime_AndBothEnd()
    {
        using var transport = new AgentTransport(new OsNetwork(), _ca.ExportCertificatePem(), clientCertificate: null, new AgentCounters(),
            HttpVersion.Version20, Deadline, TrafficPurpose.Management);
        var keepAlive = new ChannelKeepAlive(TimeSpan.Zero, TimeSpan.FromSeconds(20));
        using var capture = new UpgradeCapture(transport.ChannelInvoker, keepAlive, upgraded => new PingedStream(upgraded, TimeProvider.System, keepAlive, owner: null));
        using var invoker = new HttpMessageInvoker(capture, disposeHandler: false);
        using var request = new System.Net.Http.HttpRequestMessage(HttpMethod.Connect, _channelUri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Protocol = "websocket";
        request.Headers.Add("Sec-WebSocket-Version", "13");
        using var response = await invoker.SendAsync(request, CancellationToken.None).WaitAsync(Deadline);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var server = await _serverStream.Task.WaitAsync(Deadline);
        var reads = new ReadCounting(capture.Stream!);
        using var socket = WebSocket.CreateFromStream(reads, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });

        var receive = socket.ReceiveAsync(new Memory<byte>(new byte[64]), CancellationToken.None).AsTask();
        // The server's close frame, its header alone: the receive takes the close (CloseReceived) and reads on for the status code.
        await server.WriteAsync(new byte[] { 0x88, 0x02 });
        await server.FlushAsync();
        await Eventually.WaitAsync(() => socket.State == WebSocketState.CloseReceived && reads.InFlight == 1, Deadline,
            "the receive reading the close frame's status code");

        // The agent's close crosses it: once sent, it finds the server's close taken and waits for the server's end with a read of its own.
        var close = socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "agent stopping", CancellationToken.None);
        await Eventually.WaitAsync(() => reads.InFlight == 2, Deadline, "the close's read beside the receive's");
        await server.WriteAsync(new byte[] { 0x03, 0xE8 });
        await server.FlushAsync();
        _serverDone.TrySetResult();

        var received = await receive.WaitAsync(Deadline);
        await close.WaitAsync(Deadline);
        received.MessageType.Should().Be(WebSocketMessageType.Close, "the receive was not lost to the close's read");
        socket.CloseStatus.Should().Be(WebSocketCloseStatus.NormalClosure);
        reads.InFlight.Should().Be(0, "the close's wait for the server's end ended as well");
    }

    /// <summary>The upgraded stream, once: the test writes the server's WebSocket bytes itself; the stream ends when the test is done.</summary>
    private async Task AcceptAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpExtendedConnectFeature>() is not { IsExtendedConnect: true } connect)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        _serverStream.TrySetResult(await connect.AcceptAsync());
        await _serverDone.Task;
    }

    /// <summary>
    /// Counts the WebSocket's reads entered and not yet ended (on top of the pinged stream, so a read waiting for its turn counts). Only
    /// what the WebSocket uses is passed on: the rest is the memory stream's.
    /// </summary>
    private sealed class ReadCounting(Stream inner) : MemoryStream
    {
        private int _inFlight;

        public int InFlight => Volatile.Read(ref _inFlight);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _inFlight);
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
