using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.WebSockets;

namespace Tcm.LoadTests.Baseline.Client;

/// <summary>
/// A bare agent of the baseline: one <see cref="ClientWebSocket"/> over HTTP/1.1, or two (NS and TS channel) sharing one
/// HTTP/2 connection through the agent's own <see cref="SocketsHttpHandler"/>. It echoes every message it receives and
/// reports the delivery time. Idle, it holds no receive buffer (zero-byte reads).
/// </summary>
internal sealed class BaselineAgentChannel : IAgentChannel
{
    private readonly ClientWebSocket _ns;
    private readonly ClientWebSocket? _ts;
    private readonly HttpMessageInvoker? _invoker;
    private readonly IPushObserver _observer;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();

    private BaselineAgentChannel(int agentIndex, ClientWebSocket ns, ClientWebSocket? ts, HttpMessageInvoker? invoker, IPushObserver observer)
    {
        AgentIndex = agentIndex;
        _ns = ns;
        _ts = ts;
        _invoker = invoker;
        _observer = observer;
    }

    public int AgentIndex { get; }

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
        _ns.Abort();
        _ns.Dispose();
        _ts?.Abort();
        _ts?.Dispose();
        _invoker?.Dispose();
        _closed.TrySetResult();
        _stop.Dispose();
    }

    private static ClientWebSocket NewHttp2Socket()
    {
        var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        return socket;
    }

    private void StartReceiving()
    {
        _ = ReceiveAsync(_ns, echo: true);
        if (_ts is not null)
        {
            _ = ReceiveAsync(_ts, echo: false);
        }
    }

    private async Task ReceiveAsync(ClientWebSocket socket, bool echo)
    {
        var token = _stop.Token;
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var peek = await socket.ReceiveAsync(Memory<byte>.Empty, token).ConfigureAwait(false);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                var buffer = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    var length = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        if (length == buffer.Length)
                        {
                            return;
                        }

                        result = await socket.ReceiveAsync(buffer.AsMemory(length), token).ConfigureAwait(false);
                        length += result.Count;
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    if (length >= 16)
                    {
                        _observer.OnPushDelivered(Stopwatch.GetElapsedTime(BinaryPrimitives.ReadInt64LittleEndian(buffer)), length);
                    }

                    if (echo)
                    {
                        await socket.SendAsync(buffer.AsMemory(0, length), WebSocketMessageType.Binary, true, token).ConfigureAwait(false);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
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
