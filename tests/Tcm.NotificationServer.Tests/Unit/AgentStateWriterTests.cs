using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>
/// What agents report after their registration is written coalesced, and the agents a write stored are told on as one batch that
/// travels to the other nodes as a few lines (<see cref="AgentStateWriter"/>, <see cref="AgentStateChange"/>).
/// </summary>
public sealed class AgentStateWriterTests
{
    [SqliteOnlyFact("it holds the SQLite writer of a store it opens itself")]
    public async Task ABurstOfReports_WhileTheWriterIsBusy_IsOneWrite_ToldAsOneBatch_EachAgentOnce()
    {
        using var folder = new TemporaryFolder("ns-agent-states");
        await using var store = new TcmStore(folder.Path, NullLogger.Instance);
        var directory = new AgentDirectory(store);
        var agents = new List<AgentRecord>();
        for (var i = 0; i < 1_000; i++)
        {
            var agent = new AgentRecord { Id = AgentIdOf(i), ComputerName = $"PC-{i:0000}", Attributes = new Dictionary<string, string>() };
            await directory.AddAsync(agent, previousAgentId: null, packageId: "p");
            agents.Add(agent);
        }

        var batches = new List<IReadOnlyList<string>>();
        var told = new TaskCompletionSource();
        directory.StatesCommitted = ids =>
        {
            lock (batches)
            {
                batches.Add(ids);
                if (batches.Sum(b => b.Count) >= agents.Count)
                {
                    told.TrySetResult();
                }
            }
        };

        using var busy = new ManualResetEventSlim();
        var holding = store.Writer.WriteAsync(_ => busy.Wait(TimeSpan.FromSeconds(30)));
        foreach (var agent in agents)
        {
            directory.ReportNetworkStatus(agent, new NetworkStatus { ServerAddress = "ns:4443", Mode = ConnectionMode.Cem, Availability = agent.Id });
        }

        busy.Set();
        await holding;
        await told.Task.WaitAsync(TimeSpan.FromSeconds(30));

        batches.Should().ContainSingle("every report made while the writer was busy waits for one write").Which.Should().BeEquivalentTo(agents.Select(a => a.Id));
        var stored = store.LoadAgentStates([.. agents.Select(a => a.Id)]);
        stored.Should().HaveCount(agents.Count).And.OnlyContain(s => s.Status!.Availability == s.AgentId, "each agent's own status is stored");
    }

    [Fact]
    public void TheChangesOfABatch_NameEveryAgentOnce_InAFewNotifications()
    {
        var ids = Enumerable.Range(0, 2_000).Select(AgentIdOf).ToList();

        var changes = AgentStateChange.For(ids).ToList();
        var payloads = NodeChangePayload.Encode("node-a", changes);

        changes.Should().HaveCount(10).And.OnlyContain(c => c.Kind == NodeChangeKind.AgentState);
        payloads.Should().HaveCountLessThanOrEqualTo(10).And.OnlyContain(p => p.Length <= NodeSignalPayload.MaxLength);
        payloads.SelectMany(p => NodeChangePayload.TryDecode(p, out _, out var decoded) ? decoded : []).SelectMany(c => AgentStateChange.Ids(c.Id))
            .Should().Equal(ids);
    }

    private static string AgentIdOf(int i) => $"{i:x28}{i:0000}";
}
