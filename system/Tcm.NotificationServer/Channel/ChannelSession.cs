using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using Tcm.Channels.Delivery;
using Tcm.Channels.Framing;
using Tcm.NotificationServer.AgentEndpoints;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;
using HttpRequestMessage = Tcm.Protocol.HttpRequestMessage;
using HttpResponseMessage = Tcm.Protocol.HttpResponseMessage;

namespace Tcm.NotificationServer.Channel;

/// <summary>
/// One agent's persistent channel to the Notification Server: the hello and welcome, then acks, statuses, results and
/// <c>http.request</c>s from the agent. Reading, the send queue and the close handshake are the shared <see cref="ServerChannel"/>'s.
/// </summary>
internal sealed partial class ChannelSession : AgentSession<AgentRecord>
{
    private readonly ChannelServices _services;
    private long _nextRequestId;
    private ConcurrentDictionary<long, TaskCompletionSource<HttpResponseMessage?>>? _pendingRequests;

    /// <summary>The CEM gateway the channel came through (its site-server name), or null for a direct channel.</summary>
    public string? ViaGateway { get; init; }

    /// <summary>Called once the welcome is queued (the channel's upgrade admission gives its place to the next request).</summary>
    public Action? Welcomed { get; init; }

    public ChannelSession(WebSocket webSocket, AgentRecord agent, string connectionId, ChannelServices services)
        : base(webSocket, agent, agent.Id, connectionId, services.Channel, services.Logger)
    {
        _services = services;
    }

    protected override int MaxQueuedMessages => _services.Options.MaxQueuedPerChannel;

    protected override void OnSendQueueFull(int queued) => Log.SendQueueFull(_services.Logger, ConnectionId, Agent.Id, queued);

    protected override void OnEnded() => FailPendingRequests();

    protected override ValueTask OnMessageAsync(Message message, int bytes)
    {
        Interlocked.Add(ref Agent.BytesReceived, bytes);
        Agent.Touch(_services.Time.GetUtcNow());
        return HandleAsync(message);
    }

    protected override void OnSent(int bytes) => Interlocked.Add(ref Agent.BytesSent, bytes);

    private async ValueTask HandleAsync(Message message)
    {
        if (IsAwaitingHello)
        {
            if (message is HelloMessage hello)
            {
                await OnHelloAsync(hello).ConfigureAwait(false);
            }
            else
            {
                RefuseBeforeHello(message);
            }

            return;
        }

        if (IsClosing)
        {
            return;
        }

        switch (message)
        {
            case AckMessage ack:
                if (ack.UpToSeq is long upToSeq)
                {
                    _services.Delivery.Ack(Agent, upToSeq, DeliveryService.ViaPersistent);
                }

                break;
            case TaskStatusMessage status:
                _services.Delivery.RecordStatus(Agent, status);
                break;
            case TaskResultMessage or InventoryResultMessage:
                // why: the session reads on while the result commits (its write is queued now, in the order the messages came).
                await AcceptResultAsync(_services.Delivery.StoreResultAsync(Agent, message, (message as TaskResultMessage)?.AckUpToSeq, Aborted)).ConfigureAwait(false);
                break;
            case HttpRequestMessage request:
                await OnHttpRequestAsync(request).ConfigureAwait(false);
                break;
            case HttpResponseMessage response:
                if (_pendingRequests is { } pending && pending.TryRemove(response.Id, out var completion))
                {
                    completion.TrySetResult(response);
                }

                break;
            case ErrorMessage error:
                Log.AgentError(_services.Logger, ConnectionId, Agent.Id, error.Code, error.Detail);
                break;
            default:
                RefuseUnexpected(message);
                break;
        }
    }

    private async ValueTask OnHelloAsync(HelloMessage hello)
    {
        if (ChannelFault.CheckHello(hello, Agent.Id, ChannelRole.NotificationServer, "this is a Notification Server; Client Task Agent channels go to a Task Server") is { } refused)
        {
            Fault(refused);
            return;
        }

        if (!TryActivate())
        {
            return;
        }

        Agent.Route = ViaGateway is { } gateway ? AgentAuthenticator.CemRoute(gateway) : hello.Route;
        Agent.AcceptsTaskCancel = hello.AcceptsTaskCancel;
        AgreeOnResultAcks(hello);
        var replaced = _services.Registry.Activate(this);
        Agent.HeldBy(_services.Node.Name);
        replaced?.BeginClose(WebSocketCloseStatus.NormalClosure, CloseReasons.Replaced, "a newer connection of this agent replaced this one");
        var policy = _services.Policy.GetPolicy(Agent);
        // This server writes an acknowledgement carried by a result in the result's own write (docs/protocol.md §7).
        var welcome = Welcome(_services.ServerName) with { PolicyEtag = policy.Etag, AcksWithResults = true };
        Log.Welcomed(_services.Logger, ConnectionId, Agent.Id, Agent.ComputerName, hello.LastReceivedSeq);
        await _services.CatchUp.BeforeSessionAsync(Agent, Aborted).ConfigureAwait(false);
        await _services.Delivery.StartSessionAsync(Agent, this, welcome, hello.LastReceivedSeq, Aborted).ConfigureAwait(false);
        Welcomed?.Invoke();
    }

    private async ValueTask OnHttpRequestAsync(HttpRequestMessage request)
    {
        var headers = request.Headers is null ? null : new Dictionary<string, string>(request.Headers, StringComparer.OrdinalIgnoreCase);
        var body = request.Body is { } element ? System.Text.Encoding.UTF8.GetBytes(element.GetRawText()) : ReadOnlyMemory<byte>.Empty;
        var response = await _services.Api.HandleAsync(
            Agent,
            request.Method,
            request.Path,
            name => headers?.GetValueOrDefault(name),
            body,
            Aborted).ConfigureAwait(false);
        Send(new HttpResponseMessage
        {
            Id = request.Id,
            Status = response.Status,
            Headers = response.Headers,
            Body = response.Body is { Length: > 0 } bytes ? ParseElement(bytes) : null,
        });
    }

    private static JsonElement ParseElement(byte[] utf8Json)
    {
        using var document = JsonDocument.Parse(utf8Json);
        return document.RootElement.Clone();
    }

    /// <summary>Sends an <c>http.request</c> to the agent and waits for its answer; null when the channel ends or time runs out.</summary>
    public async Task<HttpResponseMessage?> RequestAsync(string method, string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pending = LazyInitializer.EnsureInitialized(ref _pendingRequests, static () => new ConcurrentDictionary<long, TaskCompletionSource<HttpResponseMessage?>>());
        var id = Interlocked.Increment(ref _nextRequestId);
        var completion = new TaskCompletionSource<HttpResponseMessage?>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = completion;
        Send(new HttpRequestMessage { Id = id, Method = method, Path = path });
        try
        {
            return await completion.Task.WaitAsync(timeout, _services.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            pending.TryRemove(id, out _);
        }
    }

    private void FailPendingRequests()
    {
        if (_pendingRequests is { } pending)
        {
            foreach (var (_, completion) in pending)
            {
                completion.TrySetResult(null);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Channel {ConnectionId}: agent {AgentId} ({ComputerName}) said hello, last received seq {LastReceivedSeq}")]
        public static partial void Welcomed(ILogger logger, string connectionId, string agentId, string computerName, long lastReceivedSeq);

        [LoggerMessage(EventId = 304, Level = LogLevel.Information, Message = "Channel {ConnectionId}: agent {AgentId} reported error {Code}: {Detail}")]
        public static partial void AgentError(ILogger logger, string connectionId, string agentId, string code, string detail);

        [LoggerMessage(EventId = 306, Level = LogLevel.Warning, Message = "Channel {ConnectionId} of agent {AgentId} fell {Queued} messages behind; the connection is aborted (its pushes wait in the store for its next hello)")]
        public static partial void SendQueueFull(ILogger logger, string connectionId, string agentId, int queued);
    }
}
