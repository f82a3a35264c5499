using Tcm.NotificationServer.Waves;

namespace Tcm.NotificationServer.Tests.Unit;

public sealed class WavePlannerTests
{
    [Theory]
    [InlineData(2000, 10.0, 200)]
    [InlineData(10, 12.5, 2)]
    [InlineData(3, 10.0, 1)]
    [InlineData(7, 100.0, 7)]
    [InlineData(1000, 0.1, 1)]
    public void Percent_IsAShareOfTheTargets_RoundedUp_AtLeastOne(int targets, double percent, int size) =>
        WavePlanner.WaveSize(targets, new WavePlan { Percent = percent }).Should().Be(size);

    [Fact]
    public void Split_CutsInOrder_EveryWaveFullButTheLast()
    {
        WavePlanner.Split(["a", "b", "c", "d", "e"], new WavePlan { Size = 2 }).Should().BeEquivalentTo(
            new[] { new[] { "a", "b" }, ["c", "d"], ["e"] }, o => o.WithStrictOrdering());
        WavePlanner.Split(Array.Empty<string>(), new WavePlan { Percent = 10 }).Should().BeEmpty();
    }

    [Theory]
    [InlineData(200, 3, null)]
    [InlineData(200, 4, "stopped after wave 1 of 10: 4 of the 200 targets sent failed or timed out (2%), reaching the brake of 2% failed")]
    [InlineData(400, 9, "stopped after wave 1 of 10: 9 of the 400 targets sent failed or timed out (2.3%), reaching the brake of 2% failed")]
    [InlineData(0, 0, null)]
    public void Brake_ByShare_TripsWhenTheFailedReachTheShareOfTheTargetsSent(int sent, int failed, string? reason) =>
        WavePlanner.BrakeReason(new WavePlan { Percent = 10, StopAfterFailedPercent = 2 }, sent, failed, 1, 10).Should().Be(reason);

    [Fact]
    public void Brake_ByCount_TripsAtTheCount_WhicheverBrakeComesFirst()
    {
        var plan = new WavePlan { Size = 100, StopAfterFailedCount = 5, StopAfterFailedPercent = 50 };
        WavePlanner.BrakeReason(plan, 300, 4, 3, 5).Should().BeNull();
        WavePlanner.BrakeReason(plan, 300, 5, 3, 5).Should().EndWith("(1.7%), reaching the brake of 5 failed");
        WavePlanner.BrakeReason(plan with { StopAfterFailedCount = null }, 2, 1, 1, 5).Should().EndWith("reaching the brake of 50% failed");
    }

    [Fact]
    public void WithoutABrake_NothingStopsTheWaves() =>
        WavePlanner.BrakeReason(new WavePlan { Size = 1 }, 10, 10, 10, 20).Should().BeNull();
}
