using Tcm.LoadTests.Harness.Load;

namespace Tcm.LoadTests.Tests;

public sealed class LoadSchedulerTests
{
    private static readonly TimeSpan Ms100 = TimeSpan.FromMilliseconds(100);

    /// <summary>Drives a schedule with a fake clock in steps, as the runner's loop does; returns (seconds, copies, injected so far).</summary>
    private static List<(double Seconds, int Copies, long Injected, bool Done)> Drive(LoadScheduler scheduler, TimeSpan until, TimeSpan step)
    {
        var time = new FakeTimeProvider();
        var start = time.GetTimestamp();
        var trace = new List<(double, int, long, bool)>();
        long injected = 0;
        while (true)
        {
            var elapsed = time.GetElapsedTime(start);
            var tick = scheduler.Tick(elapsed);
            injected += tick.InjectNow;
            trace.Add((elapsed.TotalSeconds, tick.TargetCopies, injected, tick.Done));
            if (tick.Done || elapsed >= until)
            {
                return trace;
            }

            time.Advance(step);
        }
    }

    [Fact]
    public void KeepConstant_HoldsCopies_ThenEnds()
    {
        var trace = Drive(new LoadScheduler([Simulation.KeepConstant(50, TimeSpan.FromSeconds(2))]), TimeSpan.FromSeconds(5), Ms100);

        trace.Where(t => t.Seconds < 2).Should().OnlyContain(t => t.Copies == 50 && !t.Done);
        trace[^1].Done.Should().BeTrue();
        trace[^1].Seconds.Should().BeApproximately(2, 1e-9);
    }

    [Fact]
    public void RampingConstant_RampsLinearly_FromPreviousPhase()
    {
        var scheduler = new LoadScheduler([
            Simulation.KeepConstant(10, TimeSpan.FromSeconds(1)),
            Simulation.RampingConstant(110, TimeSpan.FromSeconds(10)),
        ]);
        var trace = Drive(scheduler, TimeSpan.FromSeconds(20), Ms100);

        trace.Single(t => Math.Abs(t.Seconds - 1) < 1e-9).Copies.Should().Be(10);
        trace.Single(t => Math.Abs(t.Seconds - 6) < 1e-9).Copies.Should().Be(60);
        trace.Single(t => Math.Abs(t.Seconds - 10.9) < 1e-9).Copies.Should().Be(109);
        trace[^1].Done.Should().BeTrue();
    }

    [Fact]
    public void Inject_StartsExactlyRateTimesIntervals_EvenlySpread()
    {
        var trace = Drive(new LoadScheduler([Simulation.Inject(10, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3))]), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));

        trace.Should().OnlyContain(t => t.Copies == 0);
        trace.Single(t => Math.Abs(t.Seconds - 0.05) < 1e-9).Injected.Should().Be(1);
        trace.Single(t => Math.Abs(t.Seconds - 1.0) < 1e-9).Injected.Should().Be(10);
        trace.Single(t => Math.Abs(t.Seconds - 2.55) < 1e-9).Injected.Should().Be(26);
        trace[^1].Injected.Should().Be(30);
        trace[^1].Done.Should().BeTrue();
    }

    [Fact]
    public void Inject_WithCoarseTicks_CatchesUpWithoutDrift()
    {
        // Ticks of 700 ms against 100 injections per second: every due injection is made up at the next tick.
        var trace = Drive(new LoadScheduler([Simulation.Inject(100, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5))]), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(700));

        trace.Single(t => Math.Abs(t.Seconds - 2.1) < 1e-9).Injected.Should().Be(210);
        trace[^1].Injected.Should().Be(500);
    }

    [Fact]
    public void RampingInject_FromZero_InjectsTheAreaUnderTheRamp()
    {
        // Rate ramps 0 -> 100/s over 10 s: 500 in all, 125 by halfway.
        var trace = Drive(new LoadScheduler([Simulation.RampingInject(100, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10))]), TimeSpan.FromSeconds(20), Ms100);

        trace.Single(t => Math.Abs(t.Seconds - 5) < 1e-9).Injected.Should().Be(125);
        trace[^1].Injected.Should().Be(500);
    }

    [Fact]
    public void Pause_BetweenPhases_HasNoLoad()
    {
        var scheduler = new LoadScheduler([
            Simulation.KeepConstant(5, TimeSpan.FromSeconds(1)),
            Simulation.Pause(TimeSpan.FromSeconds(2)),
            Simulation.Inject(1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)),
        ]);
        var trace = Drive(scheduler, TimeSpan.FromSeconds(10), Ms100);

        trace.Where(t => t.Seconds is >= 1 and < 3).Should().OnlyContain(t => t.Copies == 0 && t.Injected == 0);
        trace[^1].Injected.Should().Be(1);
        trace[^1].Seconds.Should().BeApproximately(4, 1e-9);
    }

    [Fact]
    public void IterationsForInject_StopsAtTheCount()
    {
        var trace = Drive(new LoadScheduler([Simulation.IterationsForInject(10, TimeSpan.FromSeconds(1), 25)]), TimeSpan.FromSeconds(10), Ms100);

        trace[^1].Injected.Should().Be(25);
        trace[^1].Done.Should().BeTrue();
        trace[^1].Seconds.Should().BeApproximately(2.5, 0.15);
    }

    [Fact]
    public void IterationsForConstant_HandsOutTheBudget_AndEndsWhenAllCompleted()
    {
        var scheduler = new LoadScheduler([Simulation.IterationsForConstant(4, 10)]);
        scheduler.Tick(TimeSpan.Zero).TargetCopies.Should().Be(4);

        var taken = Enumerable.Range(0, 15).Count(_ => scheduler.TryTakeIteration());
        taken.Should().Be(10);
        for (var i = 0; i < 9; i++)
        {
            scheduler.IterationCompleted();
        }

        scheduler.Tick(TimeSpan.FromSeconds(1)).Done.Should().BeFalse();
        scheduler.IterationCompleted();
        scheduler.Tick(TimeSpan.FromSeconds(2)).Done.Should().BeTrue();
    }

    [Fact]
    public void PlannedDuration_AddsUpTimedPhases()
    {
        new LoadScheduler([Simulation.RampingConstant(10, TimeSpan.FromSeconds(5)), Simulation.KeepConstant(10, TimeSpan.FromSeconds(30))])
            .PlannedDuration.Should().Be(TimeSpan.FromSeconds(35));
        new LoadScheduler([Simulation.IterationsForConstant(1, 5)]).PlannedDuration.Should().BeNull();
    }

    [Fact]
    public void InvalidPhase_IsRejected()
    {
        var act = () => new LoadScheduler([Simulation.Inject(5, TimeSpan.Zero, TimeSpan.FromSeconds(1))]);
        act.Should().Throw<ArgumentException>();
    }
}
