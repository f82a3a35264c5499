namespace Tcm.Protocol;

/// <summary>
/// A connection's stream that remembers when the peer was last heard: the time of the last read that returned bytes. A server
/// puts it under a channel's WebSocket, because the WebSocket answers the agent's pings itself and its reader never sees them:
/// only the bytes under it show that a silent agent is still there.
/// </summary>
public sealed class HeardStream : CountingStream
{
    private readonly TimeProvider _time;
    private long _lastHeardMs;

    /// <summary>A stream over <paramref name="inner"/> (which it owns), heard now.</summary>
    public HeardStream(Stream inner, TimeProvider time)
        : base(inner)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _lastHeardMs = time.GetUtcNow().ToUnixTimeMilliseconds();
    }

    /// <summary>When bytes last came from the peer (or the stream was made), in Unix milliseconds of the stream's clock.</summary>
    public long LastHeardMs => Volatile.Read(ref _lastHeardMs);

    /// <inheritdoc/>
    protected override void OnRead(int bytes) => Volatile.Write(ref _lastHeardMs, _time.GetUtcNow().ToUnixTimeMilliseconds());
}
