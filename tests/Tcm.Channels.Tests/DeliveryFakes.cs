using System.Net.WebSockets;
using Tcm.Channels.Delivery;
using Tcm.Protocol;

namespace Tcm.Channels.Tests;

/// <summary>An agent's push sequence and a channel that records what was queued on it, for the delivery engine's unit tests.</summary>
internal static class DeliveryFakes
{
    public static WelcomeMessage Welcome() =>
        new() { ProtocolVersion = ProtocolConstants.Version, AgentId = "a", ServerName = "ns", ConnectionId = "0123456789abcdef" };

    internal sealed class SequencedAgent(string id, long nextSeq = 1, long ackedSeq = 0) : PushSequence(nextSeq, ackedSeq)
    {
        public string Id { get; } = id;
    }

    internal sealed class RecordingChannel : IPushChannel
    {
        public List<Message> Sent { get; } = [];

        public List<byte[]> Payloads { get; } = [];

        public bool Ready { get; set; }

        public void Send(Message message) => Sent.Add(message);

        public void SendPayload(byte[] utf8Json, bool offload = false)
        {
            Sent.Add(new AckMessage());
            Payloads.Add(utf8Json);
        }

        public void BeginClose(WebSocketCloseStatus status, string code, string detail, bool sendError = false)
        {
        }
    }
}
