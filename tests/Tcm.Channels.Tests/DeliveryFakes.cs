using System.Net.WebSockets;
using Tcm.Channels.Delivery;
using Tcm.Protocol;

namespace Tcm.Channels.Tests;

/// <summary>An agent's push sequence and a channel that records what was queued on it, for the delivery engine's unit tests.</summary>
internal static class DeliveryFakes
{
    public static WelcomeMessage Welcome() =>
        new() { ProtocolVersion = ProtocolConstants.Version, AgentId = "a", ServerName = "ns", ConnectionId = "0123456789abcdef" };

    /// <summary>A window over the agents' <see cref="SequencedAgent.Stored"/> pushes.</summary>
    public static PushWindow Window(int capacity, int perChannel = PushWindow.DefaultPerChannel) =>
        new(capacity, static (agent, after, max) => ((SequencedAgent)agent).Stored.Where(p => p.Seq > after).Take(max).ToList(), perChannel);

    internal sealed class SequencedAgent(string id, long nextSeq = 1, long ackedSeq = 0) : PushSequence(nextSeq, ackedSeq)
    {
        public string Id { get; } = id;

        /// <summary>The agent's pushes in its store, one byte each (its sequence number).</summary>
        public List<(long Seq, byte[] Payload)> Stored { get; } = [];

        /// <summary>Stores pushes <paramref name="from"/> to <paramref name="to"/> (as a fan-out does before it queues them) and returns them.</summary>
        public IEnumerable<(PushSequence Agent, long Seq, byte[] Payload)> Store(int from, int to)
        {
            var pushes = Enumerable.Range(from, to - from + 1).Select(seq => ((PushSequence)this, (long)seq, new[] { (byte)seq })).ToList();
            Stored.AddRange(pushes.Select(p => (p.Item2, p.Item3)));
            NextSeq = Math.Max(NextSeq, to + 1);
            return pushes;
        }
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
