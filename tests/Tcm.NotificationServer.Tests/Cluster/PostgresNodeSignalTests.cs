using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Tests.Functional;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>The PostgreSQL node signal against a real server (<see cref="PostgresFactAttribute"/>), on a database of each test's own (a notification reaches only its database's listeners).</summary>
public sealed class PostgresNodeSignalTests(ITestOutputHelper output) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ILoggerFactory _loggers = XunitLoggerProvider.CreateFactory(output, "PG   ");
    private readonly List<(PostgresNodeSignal Signal, Task Run)> _running = [];
    private Tcm.Lab.Storage.PostgresDatabase? _database;

    [PostgresFact]
    public async Task PushesStoredOnOneNode_ReachTheOtherNodesReceiver_NotItsOwn_HoweverManyNotificationsTheyTake()
    {
        var receiverA = new RecordingReceiver();
        var receiverB = new RecordingReceiver();
        var a = await StartAsync("node-a", receiverA);
        var b = await StartAsync("node-b", receiverB);
        var pushes = Enumerable.Range(0, 1_000).Select(i => ($"{i:x32}", (long)i + 1)).ToList();

        a.PushesStored(pushes);

        await Eventually.WaitAsync(() => receiverB.Pushes.Count == pushes.Count, "node B hears every push node A stored");
        receiverB.Pushes.OrderBy(p => p.Seq).Should().Equal(pushes);
        b.Received.Should().BeGreaterThan(1, "a thousand pushes do not fit one notification");
        receiverA.Pushes.Should().BeEmpty("a node ignores its own signal");
    }

    [PostgresFact]
    public async Task ListeningConnectionKilled_ListensAgain_AndBringsEveryAgentUpToTheStore_ThenHearsSignalsAgain()
    {
        var receiverB = new RecordingReceiver();
        var a = await StartAsync("node-a", new RecordingReceiver());
        var b = await StartAsync("node-b", receiverB);

        await using (var admin = NpgsqlDataSource.Create(await ConnectionStringAsync()))
        {
            // why this database only: the tests of other projects run their nodes on the same server at the same time.
            await using var kill = admin.CreateCommand(
                $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN {PostgresNodeSignal.ChannelName}' AND pid <> pg_backend_pid()");
            await kill.ExecuteNonQueryAsync();
        }

        await Eventually.WaitAsync(() => b.Listens >= 2, "node B listens again after its connection was killed");
        await Eventually.WaitAsync(() => receiverB.EverythingCalls >= 1, "node B catches up on what it may have missed");
        a.PushesStored([("0123456789abcdef0123456789abcdef", 7)]);
        await Eventually.WaitAsync(() => receiverB.Pushes.Count == 1, "node B hears node A again");
    }

    [PostgresFact]
    public async Task ATaskPushedOnNodeA_ReachesAnAgentConnectedToNodeB_ThroughPostgres()
    {
        await using var nodes = await TwoNodes.StartAsync(signal: async (name, receiver) => await StartAsync(name, receiver));
        using var agent = nodes.OnB(nodes.Agents[0]);
        var (channel, _) = await agent.ConnectAsync();
        await using var _ = channel;

        var created = await DeliveryTests.PushTaskAsync(nodes.A, agent.Id);

        var push = await channel.ReceiveAsync<TaskPushMessage>();
        push.TaskId.Should().Be(created.ActionId);
        push.Seq.Should().Be(1);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var (signal, run) in _running)
        {
            await run;
            await signal.DisposeAsync();
        }

        _stop.Dispose();
        _loggers.Dispose();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    private async Task<string> ConnectionStringAsync() => (_database ??= await TestPostgres.CreateDatabaseAsync("tcm_signal")).ConnectionString;

    private async Task<PostgresNodeSignal> StartAsync(string node, INodeSignalReceiver receiver)
    {
        var signal = new PostgresNodeSignal(await ConnectionStringAsync(), new NodeIdentity(node), receiver, TimeProvider.System,
            _loggers.CreateLogger<PostgresNodeSignal>());
        _running.Add((signal, signal.RunAsync(_stop.Token)));
        await Eventually.WaitAsync(() => signal.Listens >= 1, $"{node} listens");
        return signal;
    }

    private sealed class RecordingReceiver : INodeSignalReceiver
    {
        private int _everything;

        public ConcurrentQueue<(string AgentId, long Seq)> Pushes { get; } = new();

        public int EverythingCalls => Volatile.Read(ref _everything);

        public Task StoredElsewhereAsync(IEnumerable<(string AgentId, long Seq)> pushes, CancellationToken cancellationToken)
        {
            foreach (var push in pushes)
            {
                Pushes.Enqueue(push);
            }

            return Task.CompletedTask;
        }

        public Task EverythingStoredAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _everything);
            return Task.CompletedTask;
        }
    }
}
