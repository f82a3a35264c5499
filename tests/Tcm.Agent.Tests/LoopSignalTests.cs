namespace Tcm.Agent.Tests;

public sealed class LoopSignalTests
{
    private readonly TimerCountingTimeProvider _time = new();

    [Fact]
    public async Task Wait_EndsWhenTheClockReachesTheDeadline()
    {
        using var signal = new LoopSignal(_time);
        var wait = signal.WaitAsync(TimeSpan.FromMinutes(5), CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromMinutes(4));
        wait.IsCompleted.Should().BeFalse();
        _time.Advance(TimeSpan.FromMinutes(1));

        await wait.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Set_WakesTheWaiterAtOnce_AndDisarmsTheTimer()
    {
        using var signal = new LoopSignal(_time);
        var wait = signal.WaitAsync(TimeSpan.FromHours(1), CancellationToken.None).AsTask();

        signal.Set();

        await wait.WaitAsync(TimeSpan.FromSeconds(10));
        _time.ActiveTimers.Should().Be(0, "an idle agent holds no armed timer");
    }

    [Fact]
    public async Task Set_BeforeWait_IsRemembered_Once()
    {
        using var signal = new LoopSignal(_time);
        signal.Set();

        await signal.WaitAsync(TimeSpan.FromHours(1), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var second = signal.WaitAsync(TimeSpan.FromHours(1), CancellationToken.None).AsTask();

        second.IsCompleted.Should().BeFalse();
        signal.Set();
        await second.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Wait_Cancelled_Throws()
    {
        using var signal = new LoopSignal(_time);
        using var cts = new CancellationTokenSource();
        var wait = signal.WaitAsync(TimeSpan.FromHours(1), cts.Token).AsTask();

        await cts.CancelAsync();

        await wait.Invoking(w => w.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task ASignalThatOnlyWakesAtOnce_MakesNoTimer_ATimedWaitMakesOne_AndReusesIt()
    {
        var time = new CreatedTimerCountingTimeProvider();
        using var signal = new LoopSignal(time);

        signal.Set();
        await signal.WaitAsync(TimeSpan.FromHours(1), CancellationToken.None);
        await signal.WaitAsync(TimeSpan.Zero, CancellationToken.None);
        time.Created.Should().Be(0, "a loop that lives in its channel holds no timer");

        for (var i = 0; i < 2; i++)
        {
            var wait = signal.WaitAsync(TimeSpan.FromMinutes(1), CancellationToken.None).AsTask();
            time.Advance(TimeSpan.FromMinutes(1));
            await wait.WaitAsync(TimeSpan.FromSeconds(10));
        }

        time.Created.Should().Be(1, "the one timer is re-armed per wait");
    }

    private sealed class CreatedTimerCountingTimeProvider : FakeTimeProvider
    {
        private int _created;

        public int Created => Volatile.Read(ref _created);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _created);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
