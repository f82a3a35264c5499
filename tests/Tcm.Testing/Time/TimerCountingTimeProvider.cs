using Microsoft.Extensions.Time.Testing;

namespace Tcm.Testing;

/// <summary>
/// <see cref="FakeTimeProvider"/> that also tells how many of its timers are armed right now, for tests whose promise is
/// about timers ("an idle agent holds no armed timer", "the probe's timeout is running").
/// </summary>
public sealed class TimerCountingTimeProvider : FakeTimeProvider
{
    private readonly Lock _gate = new();
    private readonly HashSet<CountedTimer> _armed = [];

    /// <summary>Starts at <see cref="FakeTimeProvider"/>'s default time.</summary>
    public TimerCountingTimeProvider()
    {
    }

    /// <summary>Starts at <paramref name="start"/>.</summary>
    public TimerCountingTimeProvider(DateTimeOffset start)
        : base(start)
    {
    }

    /// <summary>Timers that will fire when the clock moves far enough.</summary>
    public int ActiveTimers
    {
        get
        {
            lock (_gate)
            {
                return _armed.Count;
            }
        }
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new CountedTimer(this);
        timer.Track(dueTime, period);
        timer.Inner = base.CreateTimer(s =>
        {
            timer.Fired();
            callback(s);
        }, state, dueTime, period);
        return timer;
    }

    private void SetArmed(CountedTimer timer, bool armed)
    {
        lock (_gate)
        {
            if (armed)
            {
                _armed.Add(timer);
            }
            else
            {
                _armed.Remove(timer);
            }
        }
    }

    private sealed class CountedTimer(TimerCountingTimeProvider owner) : ITimer
    {
        private bool _periodic;

        public ITimer? Inner { get; set; }

        public void Track(TimeSpan dueTime, TimeSpan period)
        {
            _periodic = period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero;
            owner.SetArmed(this, dueTime != Timeout.InfiniteTimeSpan);
        }

        public void Fired()
        {
            if (!_periodic)
            {
                owner.SetArmed(this, armed: false);
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Track(dueTime, period);
            return Inner!.Change(dueTime, period);
        }

        public void Dispose()
        {
            owner.SetArmed(this, armed: false);
            Inner?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
