using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Tcm.LoadTests.Baseline.Server;

namespace Tcm.LoadTests.Baseline.Relay;

/// <summary>
/// The floor of the gateway route: bare Kestrel forwarding a WebSocket's bytes, and nothing else. It accepts an agent's WebSocket
/// (HTTP/2 extended CONNECT, or an HTTP/1.1 upgrade) on 127.0.0.1 with TLS, opens one to the bare server of the baseline for the
/// same path (HTTP/2 extended CONNECT over one shared handler, as the gateway reaches its backends), and copies the bytes both ways
/// without reading a frame; when either side ends, both are ended. No authentication, no allow-list, no keep-alive answers, no
/// counters: what is left is the cost of carrying the bytes, which the gateway pays too.
/// </summary>
/// <remarks>
/// A relayed message is carried as the gateway's relay (YARP's stream copier) carries it: a zero-byte read so an idle tunnel holds
/// no buffer, then a read into a 64 KB buffer rented from the shared pool, a write and a flush to the other side. So both count a
/// relayed message the same way: one WebSocket message from one side read and written to the other.
/// </remarks>
internal sealed class BareRelay : IAsyncDisposable
{
    /// <summary>What YARP's copier rents per read (and the gateway with it).</summary>
    internal const int BufferSize = 64 * 1024;

    private static readonly byte[] AcceptGuid = Encoding.ASCII.GetBytes("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");

    private readonly X509Certificate2 _certificate;
    private readonly Uri _upstream;
    private readonly HttpMessageInvoker _invoker;
    private WebApplication? _app;
    private long _open;

    /// <summary>A relay on <paramref name="port"/> (0: any free) to the bare server at <paramref name="upstream"/>, trusted through <paramref name="validator"/>.</summary>
    public BareRelay(X509Certificate2 certificate, int port, Uri upstream, RemoteCertificateValidationCallback validator)
    {
        _certificate = certificate;
        Port = port;
        _upstream = upstream;
        _invoker = new HttpMessageInvoker(
            new SocketsHttpHandler
            {
                // why: as the gateway's backend handler, many tunnels share a few HTTP/2 connections upstream.
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                UseProxy = false,
                UseCookies = false,
                AllowAutoRedirect = false,
                ActivityHeadersPropagator = null,
                SslOptions = { RemoteCertificateValidationCallback = validator },
            },
            disposeHandler: true);
    }

    /// <summary>The port, known once started.</summary>
    public int Port { get; private set; }

    /// <summary>The relay's address, e.g. https://127.0.0.1:5002.</summary>
    public Uri BaseAddress => new($"https://127.0.0.1:{Port}");

    /// <summary>Tunnels open now.</summary>
    public long OpenTunnels => Interlocked.Read(ref _open);

    /// <summary>Starts listening.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var app = BareKestrel.Create(_certificate, Port);
        app.Run(RelayAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        Port = BareKestrel.PortOf(app);
        _app = app;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            await BareKestrel.StopAsync(app).ConfigureAwait(false);
        }

        _invoker.Dispose();
    }

    private async Task RelayAsync(HttpContext context)
    {
        var connect = context.Features.Get<IHttpExtendedConnectFeature>();
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var extendedConnect = connect is { IsExtendedConnect: true } && string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);
        var key = context.Request.Headers.SecWebSocketKey.ToString();
        if (!extendedConnect && !(upgrade is { IsUpgradableRequest: true } && key.Length > 0))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        // :: The bare server's side first, so a refusal there reaches the agent as a refusal.
        var request = new HttpRequestMessage(HttpMethod.Connect, new Uri(_upstream, context.Request.Path + context.Request.QueryString))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Protocol = "websocket";
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(request, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            request.Dispose();
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            return;
        }

        using (request)
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                return;
            }

            var server = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            await using (server.ConfigureAwait(false))
            {
                // :: Then the agent's side, in its own version.
                // why: a tunnel carries bytes for as long as it lives (the gateway lifts the same limits).
                if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxBody)
                {
                    maxBody.MaxRequestBodySize = null;
                }

                context.Features.Get<IHttpMinRequestBodyDataRateFeature>()?.MinDataRate = null;
                Stream agent;
                if (extendedConnect)
                {
                    agent = await connect!.AcceptAsync().ConfigureAwait(false);
                }
                else
                {
                    context.Response.Headers.Upgrade = "websocket";
                    context.Response.Headers.SecWebSocketAccept = Convert.ToBase64String(SHA1.HashData([.. Encoding.ASCII.GetBytes(key), .. AcceptGuid]));
                    agent = await upgrade!.UpgradeAsync().ConfigureAwait(false);
                }

                Interlocked.Increment(ref _open);
                try
                {
                    await PumpAsync(agent, server, context.RequestAborted).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            }
        }
    }

    /// <summary>Copies both ways until one side ends or fails; then the other is ended too (the caller disposes the bare server's stream, Kestrel the agent's).</summary>
    internal static async Task PumpAsync(Stream agent, Stream server, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var toServer = CopyAsync(agent, server, stop.Token);
        var toAgent = CopyAsync(server, agent, stop.Token);
        await Task.WhenAny(toServer, toAgent).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(toServer, toAgent).ConfigureAwait(false);
    }

    /// <summary>One direction: a zero-byte read, then a read into a rented buffer, a write and a flush; ends at the input's end, a failure or cancellation.</summary>
    private static async Task CopyAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await input.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                try
                {
                    var read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or HttpRequestException or InvalidOperationException)
        {
            // The side went away, or the other side ended first: the tunnel is over either way.
        }
    }
}
