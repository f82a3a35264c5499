namespace Tcm.LoadTests.Tests;

public sealed class AgentTrackerTests
{
    [Fact]
    public void PeakInWindow_CountsTheBusiestSlidingSecond()
    {
        // 10 ticks = one window: 3 at 0-2, then 5 within 15-24.
        long[] at = [0, 1, 2, 15, 17, 19, 22, 24, 40];
        AgentTracker.PeakInWindow(at, 10).Should().Be(5);
        AgentTracker.PeakInWindow([], 10).Should().Be(0);
    }
}
