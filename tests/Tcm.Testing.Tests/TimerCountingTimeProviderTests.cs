namespace Tcm.Testing.Tests;

public sealed class TimerCountingTimeProviderTests
{
    private readonly TimerCountingTimeProvider _time = new();

    [Fact]
    public void OneShotTimer_IsArmedUntilItFires()
    {
        var fired = 0;
        using var timer = _time.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        _time.ActiveTimers.Should().Be(1);

        _time.Advance(TimeSpan.FromSeconds(5));

        fired.Should().Be(1);
        _time.ActiveTimers.Should().Be(0);
    }

    [Fact]
    public void PeriodicTimer_StaysArmed_UntilDisarmedOrDisposed()
    {
        var fired = 0;
        var timer = _time.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        _time.Advance(TimeSpan.FromSeconds(3));
        fired.Should().Be(3);
        _time.ActiveTimers.Should().Be(1);

        timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _time.ActiveTimers.Should().Be(0);
        timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        _time.ActiveTimers.Should().Be(1);
        timer.Dispose();
        _time.ActiveTimers.Should().Be(0);
    }

    [Fact]
    public void TimerCreatedDisarmed_IsNotCounted()
    {
        using var timer = _time.CreateTimer(_ => { }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        _time.ActiveTimers.Should().Be(0);
    }

    [Fact]
    public void ZeroDueTime_FiresAtOnce_AndLeavesNothingArmed()
    {
        var fired = 0;
        using var timer = _time.CreateTimer(_ => fired++, null, TimeSpan.Zero, Timeout.InfiniteTimeSpan);

        fired.Should().Be(1);
        _time.ActiveTimers.Should().Be(0);
    }
}
