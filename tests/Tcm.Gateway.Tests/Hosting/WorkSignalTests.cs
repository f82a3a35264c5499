using Tcm.Hosting.Signals;

namespace Tcm.Gateway.Tests.Hosting;

/// <summary>The signal the NS's long poll and the Task Server's forward loop wait on: woken by a set, else bounded on the injected clock.</summary>
public sealed class WorkSignalTests
{
    [Fact]
    public async Task Unset_WaitsUntilTheInjectedClockPassesTheTimeout()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var signal = new WorkSignal();

        var wait = signal.WaitAsync(TimeSpan.FromSeconds(5), clock, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(4));
        wait.IsCompleted.Should().BeFalse("only 4 of the 5 seconds passed on the clock the wait was given");

        clock.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SetWhileWaiting_WakesTheWaiterBeforeTheTimeout()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var signal = new WorkSignal();

        var wait = signal.WaitAsync(TimeSpan.FromSeconds(5), clock, CancellationToken.None);
        wait.IsCompleted.Should().BeFalse();
        signal.Set();

        await wait.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SetWithNobodyWaiting_IsRememberedOnce()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var signal = new WorkSignal();
        signal.Set();
        signal.Set();

        await signal.WaitAsync(TimeSpan.FromSeconds(5), clock, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        var second = signal.WaitAsync(TimeSpan.FromSeconds(5), clock, CancellationToken.None);

        second.IsCompleted.Should().BeFalse("two sets before a wait wake one wait, as the forward loop's semaphore did");
        clock.Advance(TimeSpan.FromSeconds(5));
        await second.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task CancelledWait_Throws()
    {
        var signal = new WorkSignal();
        using var stop = new CancellationTokenSource();

        var wait = signal.WaitAsync(TimeSpan.FromMinutes(1), new FakeTimeProvider(), stop.Token);
        await stop.CancelAsync();

        await FluentActions.Awaiting(() => wait).Should().ThrowAsync<OperationCanceledException>();
    }
}
