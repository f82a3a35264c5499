using Tcm.Lab.Storage;
using Tcm.NotificationServer.Tests.Functional;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>
/// Two nodes on one PostgreSQL database (<see cref="PostgresFactAttribute"/>) doing the same thing at the same instant: pushing to one
/// agent (the store hands out its sequence numbers) and taking one result (stored once per idempotency key).
/// </summary>
public sealed class SharedStoreDeliveryTests
{
    private const int PushesPerNode = 25;

    [PostgresFact]
    public async Task BothNodesPushingToOneAgentAtOnce_ItReceivesEveryPushOnce_InSequence_WithoutAGap()
    {
        await using var nodes = await TwoNodes.StartAsync(store: StoreKind.PostgreSql);
        using var agent = nodes.OnB(nodes.Agents[0]);
        var (channel, _) = await agent.ConnectAsync();
        await using var _ = channel;

        // All at once: each node's own pushes wait for each other (the agent's gate on that node), the two nodes' do not.
        var created = await Task.WhenAll(Enumerable.Range(0, PushesPerNode * 2)
            .Select(i => DeliveryTests.PushTaskAsync(i % 2 == 0 ? nodes.A : nodes.B, agent.Id)));

        var received = new List<TaskPushMessage>();
        for (var i = 0; i < created.Length; i++)
        {
            received.Add(await channel.ReceiveAsync<TaskPushMessage>());
        }

        received.Select(p => p.Seq).Should().Equal(Enumerable.Range(1, created.Length).Select(i => (long)i), "one number per push, whichever node stored it");
        received.Select(p => p.TaskId).Should().BeEquivalentTo(created.Select(c => c.ActionId), "every push once");
        await channel.SendAsync(new AckMessage { UpToSeq = created.Length });
        foreach (var action in created)
        {
            await DeliveryTests.WaitForStateAsync(nodes.B, action.ActionId, TaskState.Delivered);
        }

        await using var store = nodes.A.OpenStore();
        Scalar(store, "SELECT next_seq FROM agents WHERE id = @id", agent.Id).Should().Be(created.Length + 1, "the store's count is true");
        Scalar(store, "SELECT COUNT(*) FROM pushes WHERE agent_id = @id", agent.Id).Should().Be(created.Length);
    }

    [PostgresFact]
    public async Task AResultSentToBothNodesAtOnce_IsStoredOnce_AndBothAcknowledgeIt()
    {
        await using var nodes = await TwoNodes.StartAsync(store: StoreKind.PostgreSql);
        var onA = nodes.Agents[0];
        using var onB = nodes.OnB(onA);
        var tasks = new List<ActionCreated>();
        for (var i = 0; i < 10; i++)
        {
            tasks.Add(await DeliveryTests.PushTaskAsync(nodes.A, onA.Id));
        }

        foreach (var task in tasks)
        {
            // An agent that moved nodes and sent its result again: both copies arrive at the same instant, one at each node.
            var result = MessageCodec.Encode(new TaskResultMessage
            {
                TaskId = task.ActionId, IdempotencyKey = $"{onA.Id}:{task.ActionId}", State = TaskState.Succeeded, ExitCode = 0, Output = "once",
            });
            var answers = await Task.WhenAll(
                onA.Http.PostAsync(TcmPaths.TaskResult, new ByteArrayContent(result)),
                onB.Http.PostAsync(TcmPaths.TaskResult, new ByteArrayContent(result)));

            var receipts = new List<ResultReceipt>();
            foreach (var answer in answers)
            {
                answer.EnsureSuccessStatusCode();
                receipts.Add((await answer.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ResultReceipt))!);
            }

            receipts.Select(r => r.Duplicate).Should().BeEquivalentTo(new[] { false, true }, "one node stored it, the other found it stored");
        }

        foreach (var task in tasks)
        {
            var target = (await DeliveryTests.WaitForStateAsync(nodes.B, task.ActionId, TaskState.Succeeded)).Targets.Should().ContainSingle().Subject;
            target.ResultCount.Should().Be(1);
        }

        await using var store = nodes.A.OpenStore();
        Scalar(store, "SELECT COUNT(*) FROM results WHERE agent_id = @id", onA.Id).Should().Be(tasks.Count);
    }

    [PostgresFact]
    public async Task AStoredCountBehindThePushes_AsARowWrittenBeforeTheStoreKeptIt_IsLiftedByTheNodesOwnCount()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, store: StoreKind.PostgreSql);
        using var agent = await server.RegisterAgentAsync();
        await DeliveryTests.PushTaskAsync(server, agent.Id);
        await DeliveryTests.PushTaskAsync(server, agent.Id);
        await using (var store = server.OpenStore(readOnly: false))
        {
            Scalar(store, "UPDATE agents SET next_seq = 1 WHERE id = @id RETURNING next_seq", agent.Id).Should().Be(1);
        }

        var third = await DeliveryTests.PushTaskAsync(server, agent.Id);

        var pending = await agent.Http.GetFromJsonAsync($"{TcmPaths.Tasks}?after=0", ProtocolJsonContext.Default.PendingPushes);
        pending!.Items.Cast<TaskPushMessage>().Select(p => p.Seq).Should().Equal(1, 2, 3);
        pending.Items.Cast<TaskPushMessage>().Last().TaskId.Should().Be(third.ActionId);
        await using var check = server.OpenStore();
        Scalar(check, "SELECT next_seq FROM agents WHERE id = @id", agent.Id).Should().Be(4);
    }

    /// <summary>A count or number read with one <c>@id</c> parameter, on either engine.</summary>
    internal static long Scalar(System.Data.Common.DbConnection connection, string sql, string agentId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@id";
        parameter.Value = agentId;
        command.Parameters.Add(parameter);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
