using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Tcm.Channels.Delivery;
using Tcm.Channels.Framing;
using Tcm.Protocol;
using Tcm.TaskServer.Agents;

namespace Tcm.TaskServer.Channel;

/// <summary>
/// One Client Task Agent channel: hello (role <c>ts</c>) and welcome, re-sent pushes, acks, task statuses and results (stored once,
/// then acknowledged with <c>ack.keys</c>, or held for the next push when the hello accepts it; read on while they commit). Reading, the send queue and the close handshake are the shared <see cref="ServerChannel"/>'s.
/// </summary>
internal sealed partial class TsSession : AgentSession<TsAgent>
{
    private readonly TsChannelServices _services;
    private bool _welcomed;

    public TsSession(WebSocket socket, TsAgent agent, string connectionId, TsChannelServices services)
        : base(socket, agent, agent.Id, connectionId, services.Channel, services.Logger)
    {
        _services = services;
    }

    /// <summary>Called once the welcome is queued (the channel's upgrade admission gives its place to the next request).</summary>
    public Action? Welcomed { get; init; }

    protected override void OnEnded()
    {
        if (_welcomed)
        {
            _services.Delivery.EndSession(Agent, this);
        }
    }

    protected override async ValueTask OnMessageAsync(Message message, int bytes)
    {
        if (IsAwaitingHello)
        {
            if (message is not HelloMessage hello)
            {
                RefuseBeforeHello(message);
            }
            else if (ChannelFault.CheckHello(hello, Agent.Id, ChannelRole.TaskServer, "this is a Task Server; the core agent's channel goes to the Notification Server") is { } refused)
            {
                Fault(refused);
            }
            else if (TryActivate())
            {
                await OnHelloAsync(hello).ConfigureAwait(false);
            }

            return;
        }

        if (IsClosing)
        {
            return;
        }

        switch (message)
        {
            case AckMessage { UpToSeq: long upToSeq }:
                _services.Delivery.Ack(Agent, upToSeq, TaskDelivery.ViaPersistent);
                break;
            case AckMessage:
                break;
            case TaskStatusMessage status:
                _services.Delivery.RecordStatus(Agent, status, TaskDelivery.ViaPersistent);
                break;
            case TaskResultMessage or InventoryResultMessage:
                // why: the session reads on while the result commits (its write is queued now, in the order the messages came).
                await AcceptResultAsync(_services.Delivery.StoreResultAsync(Agent, message, (message as TaskResultMessage)?.AckUpToSeq, Aborted)).ConfigureAwait(false);
                break;
            case Tcm.Protocol.HttpRequestMessage request:
                var body = request.Body is { } element ? Encoding.UTF8.GetBytes(element.GetRawText()) : ReadOnlyMemory<byte>.Empty;
                var response = await _services.Api.HandleAsync(Agent, request.Method, request.Path, body, TaskDelivery.ViaPersistent, Aborted).ConfigureAwait(false);
                Send(new Tcm.Protocol.HttpResponseMessage
                {
                    Id = request.Id,
                    Status = response.Status,
                    Headers = response.Headers,
                    Body = response.Body is { Length: > 0 } bytesOut ? System.Text.Json.JsonDocument.Parse(bytesOut).RootElement.Clone() : null,
                });
                break;
            case Tcm.Protocol.HttpResponseMessage or ErrorMessage:
                break;
            default:
                RefuseUnexpected(message);
                break;
        }
    }

    private async Task OnHelloAsync(HelloMessage hello)
    {
        // This server writes an acknowledgement carried by a result in the result's own write (docs/protocol.md section 7).
        var welcome = Welcome(_services.ServerName) with { AcksWithResults = true };
        Log.Welcomed(_services.Logger, ConnectionId, Agent.Id, hello.LastReceivedSeq);
        _welcomed = true;
        Agent.AcceptsTaskCancel = hello.AcceptsTaskCancel;
        AgreeOnResultAcks(hello);
        await _services.Delivery.StartSessionAsync(Agent, this, welcome, hello.LastReceivedSeq, CancellationToken.None).ConfigureAwait(false);
        Welcomed?.Invoke();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "TS channel {ConnectionId}: agent {AgentId} said hello, last received seq {LastReceivedSeq}")]
        public static partial void Welcomed(ILogger logger, string connectionId, string agentId, long lastReceivedSeq);
    }
}
