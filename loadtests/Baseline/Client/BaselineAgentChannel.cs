using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using Tcm.Channels.Framing;

namespace Tcm.LoadTests.Baseline.Client;

/// <summary>
/// A bare agent of the baseline: one <see cref="ClientWebSocket"/> over HTTP/1.1, or two (NS and TS channel) sharing one
/// HTTP/2 connection through the agent's own <see cref="SocketsHttpHandler"/>. It echoes every message it receives and
/// reports the delivery time. Idle, it holds no receive buffer (zero-byte reads).
/// </summary>
internal sealed class BaselineAgentChannel(int agentIndex, ClientWebSocket nsSocket, ClientWebSocket? tsSocket, HttpMessageInvoker? invoker, IPushObserver observer) : IAgentChannel
{
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();

    public int AgentIndex { get; } = agentIndex;

    public Task Closed => _closed.Task;

    /// <summary>Connects agent <paramref name="agentIndex"/> to <paramref name="server"/> (https://host:port).</summary>
    public static async Task<BaselineAgentChannel> ConnectAsync(
        Uri server,
        ChannelProtocol protocol,
        int agentIndex,
        int group,
        RemoteCertificateValidationCallback validator,
        IPushObserver observer,
        CancellationToken cancellationToken)
    {
        var ns = new Uri($"wss://{server.Authority}/ws?ch=ns&g={group}&a={agentIndex}");
        if (protocol == ChannelProtocol.Http1)
        {
            var socket = new ClientWebSocket();
            PingLikeTheAgent(socket.Options);
            socket.Options.RemoteCertificateValidationCallback = validator;
            try
            {
                await socket.ConnectAsync(ns, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            var channel = new BaselineAgentChannel(agentIndex, socket, null, null, observer);
            channel.StartReceiving();
            return channel;
        }

        var handler = new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = validator },
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        var invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        var first = NewHttp2Socket();
        var second = NewHttp2Socket();
        try
        {
            await first.ConnectAsync(ns, invoker, cancellationToken).ConfigureAwait(false);
            var ts = new Uri($"wss://{server.Authority}/ws?ch=ts&g={group}&a={agentIndex}");
            await second.ConnectAsync(ts, invoker, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            first.Dispose();
            second.Dispose();
            invoker.Dispose();
            throw;
        }

        var h2 = new BaselineAgentChannel(agentIndex, first, second, invoker, observer);
        h2.StartReceiving();
        return h2;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        nsSocket.Abort();
        nsSocket.Dispose();
        tsSocket?.Abort();
        tsSocket?.Dispose();
        invoker?.Dispose();
        _closed.TrySetResult();
        _stop.Dispose();
    }

    private static ClientWebSocket NewHttp2Socket()
    {
        var socket = new ClientWebSocket();
        PingLikeTheAgent(socket.Options);
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        return socket;
    }

    /// <summary>
    /// The agent's keep-alive (<see cref="ChannelKeepAlive.Default"/>): a ping every 60 s that the server answers with a pong, dead
    /// after 20 s without one. .NET's default (a pong every 30 s that nobody answers) would be different traffic of a TCM agent's.
    /// </summary>
    private static void PingLikeTheAgent(ClientWebSocketOptions options)
    {
        options.KeepAliveInterval = ChannelKeepAlive.Default.Interval;
        options.KeepAliveTimeout = ChannelKeepAlive.Default.Timeout;
    }

    private void StartReceiving()
    {
        _ = ReceiveAsync(nsSocket, echo: true);
        if (tsSocket is not null)
        {
            _ = ReceiveAsync(tsSocket, echo: false);
        }
    }

    private async Task ReceiveAsync(ClientWebSocket socket, bool echo)
    {
        var token = _stop.Token;
        try
        {
            await BaselineReceiver.ReceiveAllAsync(socket, async (buffer, length) =>
            {
                if (length >= 16)
                {
                    observer.OnPushDelivered(Stopwatch.GetElapsedTime(BinaryPrimitives.ReadInt64LittleEndian(buffer)), length);
                }

                if (echo)
                {
                    await socket.SendAsync(buffer.AsMemory(0, length), WebSocketMessageType.Binary, true, token).ConfigureAwait(false);
                }
            }, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or HttpRequestException)
        {
            // The connection dropped or we are closing it.
        }
        finally
        {
            _closed.TrySetResult();
        }
    }
}
