namespace Tcm.LoadTests.Variants;

/// <summary>
/// A target whose agents count the data messages of their channels, received and sent (pings and pongs are control frames, not
/// counted): on the gateway route every one of them crossed the relay, the CEM gateway's or the bare one's, so the relay's CPU
/// per relayed message is its CPU over the messages counted here, the same count for both variants.
/// </summary>
internal interface IChannelMessages
{
    /// <summary>Messages the agents received and sent over their channels so far.</summary>
    long ChannelMessages { get; }
}

/// <summary>A thread-safe count, shared by the agents of one target.</summary>
internal sealed class MessageCount
{
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Add() => Interlocked.Increment(ref _value);
}
