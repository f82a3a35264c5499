using Tcm.Channels.Delivery;
using Tcm.Protocol;

namespace Tcm.Channels.Tests;

public sealed class ResultIdentityTests
{
    private const string Agent = "0123456789abcdef";

    [Fact]
    public void TheKeyOfAResult_IsTheAgentAndWhatItIsFor()
    {
        var identity = ResultIdentity.Of(Agent, new TaskResultMessage { TaskId = "t1", IdempotencyKey = $"{Agent}:t1", State = TaskState.Failed });
        identity.Should().Be(new ResultIdentity($"{Agent}:t1", MessageKinds.TaskResult, "t1", TaskState.Failed));
        ResultIdentity.Of(Agent, new InventoryResultMessage { RequestId = "r1", IdempotencyKey = $"{Agent}:r1", Inventory = new BasicInventory { ComputerName = "PC" } })
            .Should().Be(new ResultIdentity($"{Agent}:r1", MessageKinds.InventoryResult, "r1", TaskState.Succeeded));
    }

    [Theory]
    [InlineData("0123456789abcdef:t2")]
    [InlineData("0123456789abcdef:t1:again")]
    [InlineData("fedcba9876543210:t1")]
    [InlineData("0123456789abcdef-t1")]
    [InlineData("")]
    public void AKeyThatDoesNotNameTheAgentAndTheTask_IsRefused(string key)
    {
        var read = () => ResultIdentity.Of(Agent, new TaskResultMessage { TaskId = "t1", IdempotencyKey = key, State = TaskState.Succeeded });
        read.Should().Throw<ArgumentException>().WithMessage($"*must be '{Agent}:t1'*");
    }

    [Fact]
    public void ANonFinalState_IsRefused()
    {
        var read = () => ResultIdentity.Of(Agent, new TaskResultMessage { TaskId = "t1", IdempotencyKey = $"{Agent}:t1", State = TaskState.Running });
        read.Should().Throw<ArgumentException>().WithMessage("*not a final state*");
    }
}
