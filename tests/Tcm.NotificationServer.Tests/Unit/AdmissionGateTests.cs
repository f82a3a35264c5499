using Microsoft.Extensions.Time.Testing;
using Tcm.Hosting.Listeners;
using Tcm.Hosting.Options;

namespace Tcm.NotificationServer.Tests.Unit;

public sealed class AdmissionGateTests
{
    private static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();

    private AdmissionGate Gate(int concurrent = 2, int queued = 2) => new("tls", concurrent, queued, QueueTimeout, _time);

    /// <summary>A gate of one place, taken.</summary>
    private async Task<AdmissionGate> TakenGateAsync(int queued = 2)
    {
        var gate = Gate(concurrent: 1, queued: queued);
        (await gate.EnterAsync(default)).Should().Be(AdmissionOutcome.Admitted);
        return gate;
    }

    [Fact]
    public async Task BelowTheLimit_AdmitsAtOnce()
    {
        using var gate = Gate();

        (await gate.EnterAsync(default)).Should().Be(AdmissionOutcome.Admitted);
        (await gate.EnterAsync(default)).Should().Be(AdmissionOutcome.Admitted);

        gate.Active.Should().Be(2);
        gate.Started.Should().Be(2);
    }

    [Fact]
    public async Task AtTheLimit_TheNextWaitsUntilOneExits()
    {
        using var gate = await TakenGateAsync();

        var waiting = gate.EnterAsync(default).AsTask();
        waiting.IsCompleted.Should().BeFalse();
        gate.Queued.Should().Be(1);

        gate.Exit(finished: true);

        (await waiting).Should().Be(AdmissionOutcome.Admitted);
        gate.Active.Should().Be(1);
        gate.Queued.Should().Be(0);
        gate.Finished.Should().Be(1);
        gate.Started.Should().Be(2);
    }

    [Fact]
    public async Task Waiters_AreAdmittedInArrivalOrder()
    {
        using var gate = await TakenGateAsync(queued: 3);
        var first = gate.EnterAsync(default).AsTask();
        var second = gate.EnterAsync(default).AsTask();

        gate.Exit(finished: true);

        (await first).Should().Be(AdmissionOutcome.Admitted);
        second.IsCompleted.Should().BeFalse();
        gate.Exit(finished: false);
        (await second).Should().Be(AdmissionOutcome.Admitted);
        gate.Failed.Should().Be(1);
    }

    [Fact]
    public async Task AFullQueue_RefusesAtOnce()
    {
        using var gate = await TakenGateAsync(queued: 1);
        _ = gate.EnterAsync(default).AsTask();

        (await gate.EnterAsync(default)).Should().Be(AdmissionOutcome.QueueFull);
        gate.Refused.Should().Be(1);
    }

    [Fact]
    public async Task AWaiter_PastTheQueueTimeout_TimesOut_AndTheOneBehindKeepsItsOwnDeadline()
    {
        using var gate = await TakenGateAsync(queued: 2);
        var first = gate.EnterAsync(default).AsTask();
        _time.Advance(TimeSpan.FromSeconds(4));
        var second = gate.EnterAsync(default).AsTask();

        _time.Advance(TimeSpan.FromSeconds(6));

        (await first).Should().Be(AdmissionOutcome.TimedOut);
        second.IsCompleted.Should().BeFalse();
        _time.Advance(TimeSpan.FromSeconds(4));
        (await second).Should().Be(AdmissionOutcome.TimedOut);
        gate.TimedOut.Should().Be(2);
        gate.Active.Should().Be(1);
    }

    [Fact]
    public async Task AWaiterWhoGivesUp_LeavesTheQueue_WithoutTakingAPlace()
    {
        using var gate = await TakenGateAsync();
        using var cancel = new CancellationTokenSource();
        var leaving = gate.EnterAsync(cancel.Token).AsTask();
        var staying = gate.EnterAsync(default).AsTask();

        await cancel.CancelAsync();

        (await leaving).Should().Be(AdmissionOutcome.Cancelled);
        gate.Queued.Should().Be(1);
        gate.Abandoned.Should().Be(1);
        gate.Exit(finished: true);
        (await staying).Should().Be(AdmissionOutcome.Admitted);
        gate.Active.Should().Be(1);
    }

    [Fact]
    public async Task TheRetryHint_IsTheQueueOverTheRateWorkFinishesAt()
    {
        using var gate = Gate(concurrent: 2, queued: 100);
        gate.RetryAfter.Should().Be(QueueTimeout, "nothing finished yet to measure a rate by");
        await gate.EnterAsync(default);
        await gate.EnterAsync(default);
        for (var i = 0; i < 20; i++)
        {
            _ = gate.EnterAsync(default).AsTask();
        }

        // 10 finish in 2 seconds: 5 per second; 10 wait and 2 run, so the 13th comes in after about 13 / 5 = 2.6 s.
        for (var i = 0; i < 10; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(200));
            gate.Exit(finished: true);
        }

        gate.Queued.Should().Be(10);
        gate.RetryAfter.Should().Be(TimeSpan.FromSeconds(3));
    }

    [Theory]
    [InlineData(0, 64, 10, 10)]
    [InlineData(64, 0, 10, 10)]
    [InlineData(64, 64, -1, 10)]
    [InlineData(64, 64, 10, 0)]
    [InlineData(64, 64, 10, 26)]
    public void Options_OutOfRange_AreRefusedAtStart(int handshakes, int upgrades, int queued, int timeoutSeconds)
    {
        var failures = new OptionsFailures("NotificationServer");

        failures.Admission(new AdmissionOptions
        {
            MaxConcurrentHandshakes = handshakes,
            MaxConcurrentUpgrades = upgrades,
            MaxQueued = queued,
            QueueTimeout = TimeSpan.FromSeconds(timeoutSeconds),
        });

        failures.All.Should().ContainSingle().Which.Should().StartWith("NotificationServer:Admission:");
    }

    [Fact]
    public void DefaultOptions_AreValid()
    {
        var failures = new OptionsFailures("NotificationServer");
        failures.Admission(new AdmissionOptions());
        failures.All.Should().BeEmpty();
    }
}
