using Tcm.Agent.State;
using Tcm.Agent.Tasks;

namespace Tcm.Agent.Tests;

public sealed class FileAgentStateStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tcm-agent-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Load_NothingSaved_ReturnsNull()
    {
        var store = new FileAgentStateStore(_directory);

        (await store.LoadAsync(CancellationToken.None)).Should().BeNull();
    }

    [Fact]
    public async Task SaveThenLoad_RoundTripsEverything()
    {
        var book = new DeliveryBook();
        book.Record(ChannelRole.NotificationServer, TestData.Task(3, "t3"));
        book.AddResult(TestData.Result("t3"));
        book.AddResult(new InventoryResultMessage { RequestId = "r1", IdempotencyKey = "a1:r1", Inventory = new BasicInventory { ComputerName = "pc", ProcessorCount = 2 } });
        var state = book.WriteTo(TestData.State() with { Policy = TestData.Policy(hosts: ["ns:4443"]) });
        var store = new FileAgentStateStore(_directory);

        await store.SaveAsync(state, CancellationToken.None);
        var loaded = await new FileAgentStateStore(_directory).LoadAsync(CancellationToken.None);

        loaded.Should().NotBeNull();
        loaded!.AgentId.Should().Be("a1");
        loaded.PrivateKeyPem.Should().Be(state.PrivateKeyPem);
        loaded.LastReceivedSeq[ChannelRole.NotificationServer].Should().Be(3);
        loaded.CompletedTaskIds.Should().Equal("task:t3");
        loaded.UnacknowledgedResults.Should().HaveCount(2);
        loaded.UnacknowledgedResults[0].Should().BeOfType<TaskResultMessage>().Which.IdempotencyKey.Should().Be("a1:t3");
        loaded.UnacknowledgedResults[1].Should().BeOfType<InventoryResultMessage>().Which.Inventory.ProcessorCount.Should().Be(2);
        loaded.Policy!.Etag.Should().Be(state.Policy!.Etag);
        loaded.Policy.Communication.ServerHosts.Should().Equal("ns:4443");
    }

    [Fact]
    public async Task Save_Twice_ReplacesAtomically_AndLeavesNoTemporaryFiles()
    {
        var store = new FileAgentStateStore(_directory);

        await store.SaveAsync(TestData.State(), CancellationToken.None);
        await store.SaveAsync(TestData.State() with { AgentId = "a2" }, CancellationToken.None);

        (await store.LoadAsync(CancellationToken.None))!.AgentId.Should().Be("a2");
        Directory.GetFiles(_directory).Select(Path.GetFileName).Should().Equal("agent-state.json");
    }

    [Fact]
    public async Task InMemoryStore_RoundTrips()
    {
        var store = new InMemoryAgentStateStore();

        (await store.LoadAsync(CancellationToken.None)).Should().BeNull();
        await store.SaveAsync(TestData.State(), CancellationToken.None);

        (await store.LoadAsync(CancellationToken.None))!.AgentId.Should().Be("a1");
    }
}
