using System.Collections.Frozen;
using Tcm.Protocol;

namespace Tcm.Agent.Status;

/// <summary>What one agent has done on the wire since it was created. Thread-safe, monotonic; read any time.</summary>
public sealed class AgentCounters
{
    // The wire kind's place in MessageKinds.All for every message type, from the protocol's own discriminators.
    private static readonly FrozenDictionary<Type, int> s_kindIndex = ProtocolJsonContext.Default.Message.PolymorphismOptions!.DerivedTypes
        .ToFrozenDictionary(derived => derived.DerivedType, derived => IndexOfKind((string)derived.TypeDiscriminator!));

    private readonly long[] _messagesSent = new long[MessageKinds.All.Count];
    private long _messagesReceived;
    private long _httpRequests;
    private long _channelRequests;
    private long _bytesSent;
    private long _bytesReceived;
    private long _pushesReceived;
    private long _resultsSent;
    private long _resultsAcknowledged;
    private long _channelConnects;
    private long _reconnects;
    private long _refusals;
    private long _registrations;

    /// <summary>Requests sent as plain HTTP requests (polls, posts, registration).</summary>
    public long HttpRequests => Volatile.Read(ref _httpRequests);

    /// <summary>Requests sent as <c>http.request</c> over the persistent channel.</summary>
    public long ChannelRequests => Volatile.Read(ref _channelRequests);

    /// <summary>Application bytes sent to the server (above TLS), HTTP and channel together.</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>Application bytes received from the server (above TLS), HTTP and channel together.</summary>
    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    /// <summary>Pushes received (over the channel or HTTP), duplicates included.</summary>
    public long PushesReceived => Volatile.Read(ref _pushesReceived);

    /// <summary>Result sends (task and inventory results), re-sends included.</summary>
    public long ResultsSent => Volatile.Read(ref _resultsSent);

    /// <summary>Results the server acknowledged as stored.</summary>
    public long ResultsAcknowledged => Volatile.Read(ref _resultsAcknowledged);

    /// <summary>Persistent connections established (welcome received).</summary>
    public long ChannelConnects => Volatile.Read(ref _channelConnects);

    /// <summary>Persistent connections established after an earlier one was lost, refused or terminated.</summary>
    public long Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>Channel upgrades the server refused (or closed with a refusal reason).</summary>
    public long Refusals => Volatile.Read(ref _refusals);

    /// <summary>Successful registrations (1, or more after re-registering).</summary>
    public long Registrations => Volatile.Read(ref _registrations);

    /// <summary>Messages sent over the persistent channels, of one wire kind (<see cref="MessageKinds"/>: <c>ack</c>, <c>task.result</c>...).</summary>
    public long MessagesSent(string kind)
    {
        var i = IndexOfKind(kind);
        return i < 0 ? 0 : Volatile.Read(ref _messagesSent[i]);
    }

    /// <summary>Messages sent over the persistent channels, every kind together.</summary>
    public long ChannelMessagesSent => Enumerable.Range(0, _messagesSent.Length).Sum(i => Volatile.Read(ref _messagesSent[i]));

    /// <summary>Whole messages received over the persistent channels (pushes, acknowledgements, responses...; not pings or pongs).</summary>
    public long ChannelMessagesReceived => Volatile.Read(ref _messagesReceived);

    internal void AddMessageReceived() => Interlocked.Increment(ref _messagesReceived);

    internal void AddMessageSent(Message message)
    {
        if (s_kindIndex.TryGetValue(message.GetType(), out var i))
        {
            Interlocked.Increment(ref _messagesSent[i]);
        }
    }

    private static int IndexOfKind(string kind)
    {
        for (var i = 0; i < MessageKinds.All.Count; i++)
        {
            if (string.Equals(MessageKinds.All[i], kind, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    internal void AddHttpRequest() => Interlocked.Increment(ref _httpRequests);
    internal void AddChannelRequest() => Interlocked.Increment(ref _channelRequests);
    internal void AddBytesSent(long count) => Interlocked.Add(ref _bytesSent, count);
    internal void AddBytesReceived(long count) => Interlocked.Add(ref _bytesReceived, count);

    /// <summary>A view of <paramref name="connection"/> (which it owns) that counts its bytes received and sent here.</summary>
    internal Stream Count(Stream connection) => new CountedConnection(connection, this);
    internal void AddPushReceived() => Interlocked.Increment(ref _pushesReceived);
    internal void AddResultSent() => Interlocked.Increment(ref _resultsSent);
    internal void AddResultAcknowledged() => Interlocked.Increment(ref _resultsAcknowledged);
    internal void AddRefusal() => Interlocked.Increment(ref _refusals);
    internal void AddRegistration() => Interlocked.Increment(ref _registrations);

    internal void AddChannelConnect()
    {
        if (Interlocked.Increment(ref _channelConnects) > 1)
        {
            Interlocked.Increment(ref _reconnects);
        }
    }

    /// <summary>A connection whose bytes go to these counters (no delegate per connection).</summary>
    private sealed class CountedConnection(Stream connection, AgentCounters counters) : Tcm.Protocol.CountingStream(connection)
    {
        protected override void OnRead(int bytes) => counters.AddBytesReceived(bytes);

        protected override void OnWrite(int bytes) => counters.AddBytesSent(bytes);
    }
}
