using System.Net.WebSockets;
using Tcm.Protocol;

namespace Tcm.Channels.Delivery;

/// <summary>An agent's open channel as the delivery sees it: where pushes go once the session started.</summary>
public interface IPushChannel
{
    /// <summary>Set under the agent's gate once the welcome and the re-sent pushes are queued: new pushes may follow.</summary>
    bool Ready { get; set; }

    /// <summary>Queues a message; it is sent after everything queued before it.</summary>
    void Send(Message message);

    /// <summary>Queues a message that is already UTF-8 JSON; <paramref name="offload"/> starts an idle queue on the thread pool.</summary>
    void SendPayload(byte[] utf8Json, bool offload = false);

    /// <summary>
    /// Queues a push (UTF-8 JSON, the same bytes for every channel that is sent it), starting an idle queue on the thread pool; a
    /// session that holds acknowledgements of its agent's results adds them to it (<see cref="PushMessage.AckKeys"/>).
    /// </summary>
    void SendPush(byte[] utf8Json) => SendPayload(utf8Json, offload: true);

    /// <summary>Queues an optional fatal error and the close frame (<c>code: detail</c>) after everything already queued.</summary>
    void BeginClose(WebSocketCloseStatus status, string code, string detail, bool sendError = false);
}
