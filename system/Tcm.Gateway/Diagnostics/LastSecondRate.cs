namespace Tcm.Gateway.Diagnostics;

/// <summary>
/// Events in the last whole second of <see cref="TimeProvider"/>'s clock, counted where they happen and read when asked, so
/// no timer has to sample them: an idle gateway does no work for its status page.
/// </summary>
internal sealed class LastSecondRate(TimeProvider time)
{
    private readonly Lock _lock = new();
    private long _second = long.MinValue / 2;
    private long _inSecond;
    private long _inPreviousSecond;

    /// <summary>Counts one event now.</summary>
    public void Add()
    {
        var now = Second();
        lock (_lock)
        {
            Roll(now);
            _inSecond++;
        }
    }

    /// <summary>The events counted in the last whole second before now.</summary>
    public double PerSecond
    {
        get
        {
            var now = Second();
            lock (_lock)
            {
                Roll(now);
                return _inPreviousSecond;
            }
        }
    }

    private void Roll(long now)
    {
        if (now == _second)
        {
            return;
        }

        _inPreviousSecond = now == _second + 1 ? _inSecond : 0;
        _inSecond = 0;
        _second = now;
    }

    private long Second() => time.GetTimestamp() / time.TimestampFrequency;
}
