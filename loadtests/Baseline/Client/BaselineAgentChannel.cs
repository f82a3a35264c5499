using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using Tcm.Channels.Framing;

namespace Tcm.LoadTests.Baseline.Client;

/// <summary>
/// A bare agent of the baseline: as many channels as a TCM agent of the run holds (its NS channel, and its Task Server channel
/// with <c>--task-server</c>), each a <see cref="ClientWebSocket"/>: over HTTP/1.1 one connection each; over HTTP/2 all on one
/// connection through the agent's own <see cref="SocketsHttpHandler"/>, as a TCM agent's two channels share one connection to
/// the gateway. The first (NS) channel echoes every message it receives and reports the delivery time; the second only holds.
/// Idle, it holds no receive buffer (zero-byte reads).
/// </summary>
internal sealed class BaselineAgentChannel : IAgentChannel
{
    private static readonly string[] ChannelNames = ["ns", "ts"];

    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ClientWebSocket> _sockets;
    private readonly HttpMessageInvoker? _invoker;
    private readonly IPushObserver _observer;
    private readonly MessageCount? _messages;

    private BaselineAgentChannel(int agentIndex, List<ClientWebSocket> sockets, HttpMessageInvoker? invoker, IPushObserver observer, MessageCount? messages)
    {
        AgentIndex = agentIndex;
        _sockets = sockets;
        _invoker = invoker;
        _observer = observer;
        _messages = messages;
    }

    public int AgentIndex { get; }

    public Task Closed => _closed.Task;

    /// <summary>
    /// Connects agent <paramref name="agentIndex"/> to <paramref name="server"/> (https://host:port) with
    /// <paramref name="channels"/> channels (1: NS; 2: NS and TS); every message it receives and sends is counted in <paramref name="messages"/>.
    /// </summary>
    public static async Task<BaselineAgentChannel> ConnectAsync(
        Uri server,
        ChannelProtocol protocol,
        int channels,
        int agentIndex,
        int group,
        RemoteCertificateValidationCallback validator,
        IPushObserver observer,
        MessageCount? messages,
        CancellationToken cancellationToken)
    {
        var invoker = protocol == ChannelProtocol.Http2
            ? new HttpMessageInvoker(
                new SocketsHttpHandler
                {
                    SslOptions = { RemoteCertificateValidationCallback = validator },
                    EnableMultipleHttp2Connections = false,
                    PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                    PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                },
                disposeHandler: true)
            : null;
        var sockets = new List<ClientWebSocket>(channels);
        try
        {
            foreach (var name in ChannelNames.Take(channels))
            {
                var socket = new ClientWebSocket();
                sockets.Add(socket);
                PingLikeTheAgent(socket.Options);
                var uri = new Uri($"wss://{server.Authority}/ws?ch={name}&g={group}&a={agentIndex}");
                if (invoker is null)
                {
                    socket.Options.RemoteCertificateValidationCallback = validator;
                    await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    socket.Options.HttpVersion = HttpVersion.Version20;
                    socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
                    await socket.ConnectAsync(uri, invoker, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            invoker?.Dispose();
            throw;
        }

        var agent = new BaselineAgentChannel(agentIndex, sockets, invoker, observer, messages);
        for (var i = 0; i < sockets.Count; i++)
        {
            _ = agent.ReceiveAsync(sockets[i], echo: i == 0);
        }

        return agent;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var socket in _sockets)
        {
            socket.Abort();
            socket.Dispose();
        }

        _invoker?.Dispose();
        _closed.TrySetResult();
        _stop.Dispose();
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

    private async Task ReceiveAsync(ClientWebSocket socket, bool echo)
    {
        var token = _stop.Token;
        try
        {
            await BaselineReceiver.ReceiveAllAsync(socket, async (buffer, length) =>
            {
                _messages?.Add();
                if (length >= 16)
                {
                    _observer.OnPushDelivered(Stopwatch.GetElapsedTime(BinaryPrimitives.ReadInt64LittleEndian(buffer)), length);
                }

                if (echo)
                {
                    await socket.SendAsync(buffer.AsMemory(0, length), WebSocketMessageType.Binary, true, token).ConfigureAwait(false);
                    _messages?.Add();
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
