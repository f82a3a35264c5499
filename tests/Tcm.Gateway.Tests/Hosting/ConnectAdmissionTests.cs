using Tcm.Hosting.Listeners;

namespace Tcm.Gateway.Tests.Hosting;

/// <summary>
/// Handshake places held through the connect (the gateway's admission): given back once, when the connect is done, fails, or
/// at the hold limit on the one timer of <see cref="HeldConnects"/>, oldest first.
/// </summary>
public sealed class ConnectAdmissionTests : IDisposable
{
    private static readonly TimeSpan HoldLimit = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);
    private readonly FakeTimeProvider _time = new();
    private readonly AdmissionGate _gate;
    private readonly HeldConnects _held;

    public ConnectAdmissionTests()
    {
        // A queue timeout beyond every hold limit here: only the hold limit moves the queue.
        _gate = new AdmissionGate("tls", maxConcurrent: 1, maxQueued: 10, AdmissionOptions.MaxQueueTimeout, _time);
        _held = new HeldConnects(HoldLimit, _time);
    }

    [Fact]
    public async Task APlaceHeldUntilTheHoldLimit_IsGivenBackAsExpired_AndAdmitsTheNextConnection()
    {
        await HoldAsync();
        var next = _gate.EnterAsync(default).AsTask();

        _time.Advance(HoldLimit - Tick);
        next.IsCompleted.Should().BeFalse("the place is held until its limit");
        _time.Advance(Tick);

        (await next.WaitAsync(TimeSpan.FromSeconds(5))).Should().Be(AdmissionOutcome.Admitted);
        _gate.Expired.Should().Be(1);
        (_gate.Finished, _gate.Failed).Should().Be((0, 0), "an expired place is neither");
        _held.Count.Should().Be(0);
    }

    [Fact]
    public async Task APlaceWhoseConnectIsDone_IsFinished_AndNotExpiredLater()
    {
        var place = await HoldAsync();

        place.Release(ConnectAdmission.End.Done);
        _time.Advance(HoldLimit * 2);

        (_gate.Finished, _gate.Expired, _gate.Active).Should().Be((1, 0, 0));
        _held.Count.Should().Be(0);
    }

    [Fact]
    public async Task APlaceGivenBackTwice_CountsOnce()
    {
        var place = await HoldAsync();

        place.Release(ConnectAdmission.End.Failed);
        place.Release(ConnectAdmission.End.Done);

        (_gate.Failed, _gate.Finished, _gate.Active).Should().Be((1, 0, 0));
    }

    [Fact]
    public async Task HeldPlaces_ExpireOldestFirst_EachAtItsOwnLimit()
    {
        using var gate = new AdmissionGate("tls", maxConcurrent: 2, maxQueued: 0, AdmissionOptions.MaxQueueTimeout, _time);
        (await gate.EnterAsync(default)).Should().Be(AdmissionOutcome.Admitted);
        _ = new ConnectAdmission(gate, _held);
        _time.Advance(TimeSpan.FromSeconds(4));
        (await gate.EnterAsync(default)).Should().Be(AdmissionOutcome.Admitted);
        _ = new ConnectAdmission(gate, _held);

        _time.Advance(HoldLimit - TimeSpan.FromSeconds(4));
        (gate.Expired, gate.Active).Should().Be((1, 1), "the first place reached its limit, the second has 4 s left");

        _time.Advance(TimeSpan.FromSeconds(4) - Tick);
        gate.Expired.Should().Be(1);
        _time.Advance(Tick);
        (gate.Expired, gate.Active).Should().Be((2, 0));
    }

    public void Dispose()
    {
        _held.Dispose();
        _gate.Dispose();
    }

    private async Task<ConnectAdmission> HoldAsync()
    {
        (await _gate.EnterAsync(default)).Should().Be(AdmissionOutcome.Admitted);
        return new ConnectAdmission(_gate, _held);
    }
}
