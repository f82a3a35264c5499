namespace Tcm.Testing.Tests;

public sealed class EventuallyTests
{
    [Fact]
    public async Task WaitAsync_ReturnsTheFirstValueThatSatisfiesTheCondition()
    {
        var probes = 0;

        var value = await Eventually.WaitAsync(() => ++probes, n => n >= 3, TimeSpan.FromSeconds(10), "three probes");

        value.Should().Be(3);
    }

    [Fact]
    public async Task WaitAsync_OnTimeout_NamesWhatWasAwaitedAndTheLastValue()
    {
        var wait = () => Eventually.WaitAsync(() => new[] { "http", "offline" }, s => s.Length == 0, TimeSpan.FromMilliseconds(100), "the agent to go persistent");

        (await wait.Should().ThrowAsync<TimeoutException>())
            .WithMessage("Waited 0.1 s for the agent to go persistent; last observed: [http, offline]");
    }

    [Fact]
    public async Task WaitAsync_UsesTheGivenDescription()
    {
        var wait = () => Eventually.WaitAsync(() => 7, n => n == 8, TimeSpan.FromMilliseconds(50), "eight", CancellationToken.None, n => $"n={n}");

        (await wait.Should().ThrowAsync<TimeoutException>()).WithMessage("*last observed: n=7");
    }

    [Fact]
    public async Task WaitAsync_Cancelled_StopsWaiting()
    {
        using var cancel = new CancellationTokenSource();
        var wait = Eventually.WaitAsync(() => false, TimeSpan.FromMinutes(5), "never", cancel.Token);

        await cancel.CancelAsync();

        await wait.Invoking(w => w.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task WaitAsync_AProbeThatThrows_EndsTheWaitAtOnce()
    {
        Func<int> probe = () => throw new InvalidOperationException("the server is down");
        var wait = () => Eventually.WaitAsync(probe, _ => true, TimeSpan.FromMinutes(5), "anything");

        await wait.Should().ThrowAsync<InvalidOperationException>().WithMessage("the server is down");
    }

    [Fact]
    public async Task HoldsForAsync_PassesWhenTheConditionStaysTrue()
    {
        await Eventually.HoldsForAsync(() => "http", s => s == "http", TimeSpan.FromMilliseconds(250), "HTTP");
    }

    [Fact]
    public async Task HoldsForAsync_FailsAtTheFirstProbeWhereTheConditionBreaks()
    {
        var probes = 0;
        var hold = () => Eventually.HoldsForAsync(() => ++probes, n => n < 3, TimeSpan.FromSeconds(10), "fewer than three");

        (await hold.Should().ThrowAsync<InvalidOperationException>()).WithMessage("Expected fewer than three for 10 s, but after * s: 3");
        probes.Should().Be(3);
    }
}
