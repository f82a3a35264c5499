using Microsoft.Extensions.DependencyInjection;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>
/// A channel reads its agent's next message while the results it read commit (docs/architecture.md, the push's path, step 6): each
/// result is acknowledged only once its own commit is in the store, and a channel that ends with results in flight loses none of them
/// and stores none twice when the agent sends them again. The store is held by a write of the test's that waits, on the real writer.
/// </summary>
public sealed class ResultsInFlightTests
{
    [Fact]
    public async Task ResultsInFlight_DoNotStopTheChannelsReading_AndEachIsAcknowledgedOnlyOnceItsCommitIsInTheStore()
    {
        await using var connected = await ConnectedAgent.StartAsync(HttpVersion.Version20);
        var (server, agent, channel, _) = connected;
        var pushes = new List<TaskPushMessage>();
        for (var i = 0; i < 3; i++)
        {
            pushes.Add((await connected.PushTaskAsync()).Push);
        }

        var keys = pushes.Select(p => $"{agent.Id}:{p.TaskId}").ToList();
        var release = await HoldWriterAsync(server);
        try
        {
            foreach (var push in pushes)
            {
                await channel.SendAsync(Result(agent, push) with { AckUpToSeq = push.Seq });
            }

            await channel.SendAsync(new Tcm.Protocol.HttpRequestMessage { Id = 7, Method = "GET", Path = TcmPaths.Policy });

            (await channel.ReceiveAsync()).Should().BeOfType<Tcm.Protocol.HttpResponseMessage>("the channel read on while three results wait for the store, none acknowledged")
                .Which.Id.Should().Be(7);
            keys.Select(key => StoredCount(server, key)).Should().AllBeEquivalentTo(0);
        }
        finally
        {
            release.TrySetResult();
        }

        var acknowledged = new List<string>();
        while (acknowledged.Count < keys.Count)
        {
            foreach (var key in (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys!)
            {
                StoredCount(server, key).Should().Be(1, $"{key} is acknowledged after its commit");
                acknowledged.Add(key);
            }
        }

        acknowledged.Should().BeEquivalentTo(keys);
        var info = await server.AdminGetAsync($"/agents/{agent.Id}", ProtocolJsonContext.Default.AgentInfo);
        (info.LastAckedSeq, info.PendingPushes).Should().Be((pushes[^1].Seq, 0), "the acknowledgements the results carried were applied");
    }

    [Fact]
    public async Task AChannelThatEnds_WithResultsInFlight_LosesNone_AndTheirSendingAgainStoresNoneTwice()
    {
        await using var connected = await ConnectedAgent.StartAsync(HttpVersion.Version20);
        var (server, agent, channel, _) = connected;
        var created = new List<ActionCreated>();
        var pushes = new List<TaskPushMessage>();
        for (var i = 0; i < 3; i++)
        {
            var (action, push) = await connected.PushTaskAsync();
            created.Add(action);
            pushes.Add(push);
        }

        await channel.SendAsync(Result(agent, pushes[0]));
        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(Key(agent, pushes[0]));

        var release = await HoldWriterAsync(server);
        try
        {
            foreach (var push in pushes)
            {
                await channel.SendAsync(Result(agent, push));
            }

            // why: the http.response says the channel has read the three results (their writes are queued) before it goes away.
            await channel.RequestAsync(8, "GET", TcmPaths.Policy);
            channel.WebSocket.Abort();
        }
        finally
        {
            release.TrySetResult();
        }

        var (again, _) = await agent.ConnectAsync(HttpVersion.Version20, lastReceivedSeq: pushes[^1].Seq);
        await using (again)
        {
            foreach (var push in pushes)
            {
                await again.SendAsync(Result(agent, push));
            }

            var acknowledged = new List<string>();
            while (acknowledged.Count < pushes.Count)
            {
                acknowledged.AddRange((await again.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys!);
            }

            acknowledged.Should().BeEquivalentTo(pushes.Select(p => Key(agent, p)));
        }

        pushes.Select(p => StoredCount(server, Key(agent, p))).Should().AllBeEquivalentTo(1);
        foreach (var action in created)
        {
            (await DeliveryTests.WaitForStateAsync(server, action.ActionId, TaskState.Succeeded)).Targets.Should().ContainSingle().Which.ResultCount.Should().Be(1);
        }

        var metrics = await server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64);
        (metrics["results.stored"], metrics["results.duplicates"]).Should().Be((3L, 4L), "the first result twice on the first channel, all three again on the second");
    }

    private static string Key(TestAgent agent, TaskPushMessage push) => $"{agent.Id}:{push.TaskId}";

    private static TaskResultMessage Result(TestAgent agent, TaskPushMessage push) =>
        new() { TaskId = push.TaskId, IdempotencyKey = Key(agent, push), State = TaskState.Succeeded, Output = "hello" };

    /// <summary>Queues a write on the server's one writer that waits until the returned source is set; returns once it runs.</summary>
    private static async Task<TaskCompletionSource> HoldWriterAsync(NotificationServerHost server)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = server.Services.GetRequiredService<TcmStore>().Writer.WriteAsync(_ =>
        {
            holding.TrySetResult();
            release.Task.Wait(Eventually.DefaultDeadline);
        });
        await holding.Task.WaitAsync(Eventually.DefaultDeadline);
        return release;
    }

    private static long StoredCount(NotificationServerHost server, string key)
    {
        using var connection = server.OpenStore();
        return Cluster.SharedStoreDeliveryTests.Scalar(connection, "SELECT COUNT(*) FROM results WHERE idempotency_key = @id", key);
    }
}
