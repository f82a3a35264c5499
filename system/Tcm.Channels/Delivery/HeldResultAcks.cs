namespace Tcm.Channels.Delivery;

/// <summary>
/// One channel's acknowledgements of stored results that the server holds back, like TCP's delayed ACK: an agent that said
/// <c>acceptsHeldResultAcks</c> gets them on the next push its server sends it (<c>ackKeys</c>), or in one <c>ack</c> once the oldest
/// has waited the delay, or at once when <see cref="MaxHeld"/> are held. What is held when the channel drops is not lost: the agent
/// sends those results again after its next hello, and the server, which stores a result once per key, acknowledges them again.
/// Thread-safe: results arrive on the channel's receive loop, pushes on a fan-out's thread, the delay is checked by the heartbeat.
/// </summary>
internal sealed class HeldResultAcks(long delayMs)
{
    /// <summary>The most keys held at once (about 5 KB of keys): one more sends them all in one <c>ack</c>.</summary>
    public const int MaxHeld = 64;

    private readonly Lock _lock = new();
    private List<string>? _keys;
    private long _oldestMs;

    /// <summary>How long the oldest held key may wait for a push before it goes out on its own, in milliseconds.</summary>
    public long DelayMs { get; } = delayMs;

    /// <summary>Holds <paramref name="key"/> (stored at <paramref name="nowMs"/>); returns every held key when the cap is reached, else null.</summary>
    public List<string>? Hold(string key, long nowMs)
    {
        lock (_lock)
        {
            if (_keys is null)
            {
                _keys = [];
                _oldestMs = nowMs;
            }

            _keys.Add(key);
            return _keys.Count >= MaxHeld ? TakeHeld() : null;
        }
    }

    /// <summary>Every held key (for a push that carries them), or null when none is held.</summary>
    public List<string>? Take()
    {
        if (Volatile.Read(ref _keys) is null)
        {
            return null;
        }

        lock (_lock)
        {
            return TakeHeld();
        }
    }

    /// <summary>Every held key once the oldest has waited <see cref="DelayMs"/> at <paramref name="nowMs"/>, else null.</summary>
    public List<string>? TakeDue(long nowMs)
    {
        if (Volatile.Read(ref _keys) is null)
        {
            return null;
        }

        lock (_lock)
        {
            return _keys is not null && nowMs - _oldestMs >= DelayMs ? TakeHeld() : null;
        }
    }

    private List<string>? TakeHeld()
    {
        var keys = _keys;
        _keys = null;
        return keys;
    }
}
