using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Tests;

public sealed class RelayBufferPoolTests
{
    [Fact]
    public void ConfigureProcess_SizesTheSharedPool_UnlessTheOperatorSetIt()
    {
        var before = Environment.GetEnvironmentVariable(RelayBufferPool.Variable);
        try
        {
            Environment.SetEnvironmentVariable(RelayBufferPool.Variable, null);
            RelayBufferPool.ConfigureProcess();
            Environment.GetEnvironmentVariable(RelayBufferPool.Variable).Should().Be("1024");

            Environment.SetEnvironmentVariable(RelayBufferPool.Variable, "64");
            RelayBufferPool.ConfigureProcess();
            Environment.GetEnvironmentVariable(RelayBufferPool.Variable).Should().Be("64", "an operator's own value wins");
        }
        finally
        {
            Environment.SetEnvironmentVariable(RelayBufferPool.Variable, before);
        }
    }
}
