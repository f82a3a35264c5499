namespace Tcm.Gateway.Tests;

public sealed class GatewayThreadPoolTests
{
    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(8, 16)]
    public void MaxWorkers_IsTwoPerCore(int cores, int workers) =>
        GatewayThreadPool.MaxWorkers(cores).Should().Be(workers);

    [Fact]
    public void MaxWorkers_WithNoCoreReported_StillAllowsTwo() =>
        GatewayThreadPool.MaxWorkers(0).Should().Be(2);
}
