namespace Tcm.LoadTests.Harness.Load;

/// <summary>What the runner must do at one tick of the schedule.</summary>
/// <param name="TargetCopies">Closed-model copies that should be running now (0 in open-model and pause phases).</param>
/// <param name="InjectNow">Open-model iterations to start now (all that fell due since the previous tick).</param>
/// <param name="Done">True once every phase has ended.</param>
/// <param name="NextTick">How long the runner may wait before the next tick.</param>
/// <param name="Phase">Index of the current phase.</param>
/// <param name="Load">The current load in words, for the progress view.</param>
internal readonly record struct ScheduleTick(int TargetCopies, long InjectNow, bool Done, TimeSpan NextTick, int Phase, string Load);

/// <summary>
/// The pure schedule of a scenario's load simulations: given the elapsed time, how many copies should run and how many
/// iterations are due. It holds no timer, so tests drive it with a fake clock. Injections are exact in count: an
/// injection late by a tick is made up at the next one, so the arrival rate never drifts.
/// Iteration counters (<see cref="TryTakeIteration"/>, <see cref="IterationCompleted"/>) are thread-safe; <see cref="Tick"/> is called by one loop.
/// </summary>
internal sealed class LoadScheduler
{
    private static readonly TimeSpan MaxClosedTick = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxOpenTick = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MinTick = TimeSpan.FromMilliseconds(1);

    private readonly IReadOnlyList<LoadSimulation> _phases;
    private int _phase;
    private TimeSpan _phaseStart;
    private long _injected;
    private int _startCopies;
    private double _startRate;
    private long _budgetTaken;
    private long _completed;

    public LoadScheduler(IReadOnlyList<LoadSimulation> phases)
    {
        ArgumentNullException.ThrowIfNull(phases);
        foreach (var phase in phases)
        {
            phase.Validate();
        }

        _phases = phases;
    }

    /// <summary>The phases, in order.</summary>
    public IReadOnlyList<LoadSimulation> Phases => _phases;

    /// <summary>Total duration when every phase is bounded by time; null when a phase is bounded by a count.</summary>
    public TimeSpan? PlannedDuration =>
        _phases.All(p => p.Duration is not null) ? _phases.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.Duration!.Value) : null;

    /// <summary>
    /// Asks to start one more iteration in a closed-model phase bounded by a count; false once the phase's count is used up.
    /// Phases bounded by time always say yes.
    /// </summary>
    public bool TryTakeIteration()
    {
        var phase = Volatile.Read(ref _phase);
        if (phase >= _phases.Count || _phases[phase] is not LoadSimulation.IterationsForConstant bounded)
        {
            return true;
        }

        if (Interlocked.Increment(ref _budgetTaken) <= bounded.Iterations)
        {
            return true;
        }

        Interlocked.Decrement(ref _budgetTaken);
        return false;
    }

    /// <summary>Tells the schedule a closed-model iteration finished (count-bounded phases end when all are done).</summary>
    public void IterationCompleted() => Interlocked.Increment(ref _completed);

    /// <summary>Advances the schedule to <paramref name="elapsed"/> (time since the scenario's load started).</summary>
    public ScheduleTick Tick(TimeSpan elapsed)
    {
        long inject = 0;
        while (_phase < _phases.Count)
        {
            var phase = _phases[_phase];
            var t = elapsed - _phaseStart;
            if (t < TimeSpan.Zero)
            {
                t = TimeSpan.Zero;
            }

            if (phase.Duration is { } during && t >= during)
            {
                if (phase.IsOpen)
                {
                    inject += Total(phase) - _injected;
                }

                Advance(phase, _phaseStart + during);
                continue;
            }

            switch (phase)
            {
                case LoadSimulation.IterationsForConstant bounded:
                    if (Interlocked.Read(ref _completed) >= bounded.Iterations)
                    {
                        Advance(phase, elapsed);
                        continue;
                    }

                    return new ScheduleTick(bounded.Copies, inject, false, MaxClosedTick, _phase, $"{bounded.Copies} copies");

                case LoadSimulation.IterationsForInject bounded:
                    if (_injected >= bounded.Iterations)
                    {
                        Advance(phase, elapsed);
                        continue;
                    }

                    var dueBounded = Math.Min(bounded.Iterations, Due(phase, t));
                    inject += dueBounded - _injected;
                    _injected = dueBounded;
                    if (_injected >= bounded.Iterations)
                    {
                        Advance(phase, elapsed);
                        continue;
                    }

                    return new ScheduleTick(0, inject, false, OpenTick(bounded.Rate, bounded.Interval), _phase, $"inject {bounded.Rate}/{Format(bounded.Interval)}");

                case LoadSimulation.Inject or LoadSimulation.RampingInject:
                    var due = Math.Min(Total(phase), Due(phase, t));
                    inject += due - _injected;
                    _injected = due;
                    var rate = RateAt(phase, t);
                    var interval = phase is LoadSimulation.Inject i ? i.Interval : ((LoadSimulation.RampingInject)phase).Interval;
                    return new ScheduleTick(0, inject, false, Min(OpenTick(rate, interval), phase.Duration!.Value - t), _phase, $"inject {rate:0.#}/{Format(interval)}");

                case LoadSimulation.KeepConstant keep:
                    return new ScheduleTick(keep.Copies, inject, false, Min(MaxClosedTick, keep.During - t), _phase, $"{keep.Copies} copies");

                case LoadSimulation.RampingConstant ramp:
                    var copies = (int)Math.Round(_startCopies + (ramp.Copies - _startCopies) * (t / ramp.During));
                    return new ScheduleTick(copies, inject, false, Min(MaxClosedTick, ramp.During - t), _phase, $"{copies} copies (ramp to {ramp.Copies})");

                case LoadSimulation.Pause pause:
                    return new ScheduleTick(0, inject, false, Min(MaxClosedTick, pause.During - t), _phase, "pause");
            }
        }

        return new ScheduleTick(0, inject, true, TimeSpan.Zero, _phases.Count, "done");
    }

    private void Advance(LoadSimulation ended, TimeSpan endedAt)
    {
        (_startCopies, _startRate) = ended switch
        {
            LoadSimulation.KeepConstant k => (k.Copies, 0d),
            LoadSimulation.RampingConstant r => (r.Copies, 0d),
            LoadSimulation.IterationsForConstant c => (c.Copies, 0d),
            LoadSimulation.Inject i => (0, i.Rate / i.Interval.TotalSeconds),
            LoadSimulation.RampingInject r => (0, r.Rate / r.Interval.TotalSeconds),
            LoadSimulation.IterationsForInject i => (0, i.Rate / i.Interval.TotalSeconds),
            _ => (0, 0d),
        };
        _phaseStart = endedAt;
        _injected = 0;
        Interlocked.Exchange(ref _budgetTaken, 0);
        Interlocked.Exchange(ref _completed, 0);
        Volatile.Write(ref _phase, _phase + 1);
    }

    /// <summary>Iterations due by time <paramref name="t"/> into an open phase: the ceiling of the integral of the rate.</summary>
    private long Due(LoadSimulation phase, TimeSpan t) => (long)Math.Ceiling(Cumulative(phase, t.TotalSeconds) - 1e-9);

    private long Total(LoadSimulation phase) => phase.Duration is { } d ? (long)Math.Round(Cumulative(phase, d.TotalSeconds)) : long.MaxValue;

    private double Cumulative(LoadSimulation phase, double seconds) => phase switch
    {
        LoadSimulation.Inject i => i.Rate / i.Interval.TotalSeconds * seconds,
        LoadSimulation.IterationsForInject i => i.Rate / i.Interval.TotalSeconds * seconds,
        LoadSimulation.RampingInject r => RampCumulative(r, seconds),
        _ => 0,
    };

    private double RampCumulative(LoadSimulation.RampingInject ramp, double seconds)
    {
        var end = ramp.Rate / ramp.Interval.TotalSeconds;
        var during = ramp.During.TotalSeconds;
        return _startRate * seconds + (end - _startRate) * seconds * seconds / (2 * during);
    }

    /// <summary>The arrival rate per interval at time <paramref name="t"/> into an open phase.</summary>
    private double RateAt(LoadSimulation phase, TimeSpan t) => phase switch
    {
        LoadSimulation.Inject i => i.Rate,
        LoadSimulation.RampingInject r => (_startRate * r.Interval.TotalSeconds) + (r.Rate - (_startRate * r.Interval.TotalSeconds)) * (t / r.During),
        _ => 0,
    };

    private static TimeSpan OpenTick(double ratePerInterval, TimeSpan interval)
    {
        if (ratePerInterval <= 0)
        {
            return MaxOpenTick;
        }

        var gap = interval / ratePerInterval;
        return gap < MinTick ? MinTick : gap > MaxOpenTick ? MaxOpenTick : gap;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b)
    {
        var min = a < b ? a : b;
        return min < MinTick ? MinTick : min;
    }

    private static string Format(TimeSpan interval) =>
        interval.TotalSeconds >= 1 && interval.TotalSeconds % 1 == 0 ? $"{interval.TotalSeconds:0}s" : $"{interval.TotalMilliseconds:0}ms";
}
