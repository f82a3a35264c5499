using System.Text.Json;
using Tcm.Agent.Tasks;

namespace Tcm.Agent.Tests;

public sealed class BuiltInTaskExecutorTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Echo_ReturnsTheText()
    {
        var outcome = await new BuiltInTaskExecutor(_time).ExecuteAsync(TestData.Task(1, "t", "echo", new Dictionary<string, string> { ["text"] = "hello" }), CancellationToken.None);

        outcome.Should().Be(new TaskOutcome(true, 0, "hello"));
    }

    [Fact]
    public async Task Sleep_CompletesWhenTheClockHasMoved()
    {
        var task = new BuiltInTaskExecutor(_time).ExecuteAsync(TestData.Task(1, "t", "sleep", new Dictionary<string, string> { ["seconds"] = "5" }), CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromSeconds(4));
        task.IsCompleted.Should().BeFalse();
        _time.Advance(TimeSpan.FromSeconds(1));

        var outcome = await task.WaitAsync(TimeSpan.FromSeconds(10));
        outcome.Succeeded.Should().BeTrue();
        outcome.Output.Should().Be("slept 5 s");
    }

    [Fact]
    public async Task Sleep_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        var task = new BuiltInTaskExecutor(_time).ExecuteAsync(TestData.Task(1, "t", "sleep", new Dictionary<string, string> { ["seconds"] = "60" }), cts.Token).AsTask();

        await cts.CancelAsync();

        await task.Invoking(t => t.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<OperationCanceledException>();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("soon")]
    [InlineData("-1")]
    public async Task Sleep_BadSeconds_FailsWithAClearOutput(string? seconds)
    {
        var parameters = seconds is null ? null : new Dictionary<string, string> { ["seconds"] = seconds };

        var outcome = await new BuiltInTaskExecutor(_time).ExecuteAsync(TestData.Task(1, "t", "sleep", parameters), CancellationToken.None);

        outcome.Succeeded.Should().BeFalse();
        outcome.Output.Should().Contain("seconds");
    }

    [Fact]
    public async Task UnknownCommand_FailsAndSaysWhatTheAgentRuns()
    {
        var outcome = await new BuiltInTaskExecutor(_time).ExecuteAsync(TestData.Task(1, "t", "format-c"), CancellationToken.None);

        outcome.Succeeded.Should().BeFalse();
        outcome.ExitCode.Should().NotBe(0);
        outcome.Output.Should().Contain("unknown command 'format-c'").And.Contain("echo, sleep, inventory");
    }

    [Fact]
    public async Task Inventory_ReturnsBasicInventoryAsJson()
    {
        var outcome = await new BuiltInTaskExecutor(_time, "pc-7").ExecuteAsync(TestData.Task(1, "t", "inventory"), CancellationToken.None);

        outcome.Succeeded.Should().BeTrue();
        var inventory = JsonSerializer.Deserialize(outcome.Output!, ProtocolJsonContext.Default.BasicInventory)!;
        inventory.ComputerName.Should().Be("pc-7");
        inventory.ProcessorCount.Should().BeGreaterThan(0);
        inventory.CollectedAt.Should().Be(_time.GetUtcNow());
    }

    [Fact]
    public async Task CollectInventory_ReportsTheMachine()
    {
        var inventory = await new BuiltInTaskExecutor(_time).CollectInventoryAsync(null, CancellationToken.None);

        inventory.ComputerName.Should().Be(Environment.MachineName);
        inventory.OsName.Should().NotBeNullOrEmpty();
        inventory.MemoryBytes.Should().BeGreaterThan(0);
    }
}
