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
}
