namespace Tcm.Functional.Tests;

/// <summary>
/// A real agent with a real Notification Server (and a real Task Server) on 127.0.0.1: the agent accepts held result acknowledgements
/// and forgets a result when its acknowledgement rides on the next push (docs/protocol.md section 7), on either channel.
/// </summary>
public sealed class HeldResultAckAgentTests(ITestOutputHelper output) : SystemTest(output)
{
    [Fact]
    public async Task AResultsAcknowledgement_RidingOnTheNextPush_IsTakenByTheAgent_AndEachResultIsStoredOnce()
    {
        // why a minute: within the test only the next push can bring the acknowledgement.
        var server = await StartNotificationServerAsync(configure: o => o.ResultAckDelay = TimeSpan.FromMinutes(1));
        var options = RealAgents.Options(await server.Info.CreateInstallPackageAsync(), "PC-01", null) with { HttpVersion = HttpVersion.Version20 };
        var agent = await StartAgentAsync(options);
        var id = await RealAgents.WaitForIdAsync(agent);
        await WaitForStatusAsync(agent, s => s.Transport == TransportKind.Persistent, "the persistent channel");

        var first = await server.PushTaskAsync(TestTasks.Echo("one", id));
        await WaitForStateAsync(server, first.ActionId, TaskState.Succeeded);
        (agent.PendingResults, agent.Counters.ResultsAcknowledged).Should().Be((1, 0L), "the server holds the acknowledgement for the next push");

        var second = await server.PushTaskAsync(TestTasks.Echo("two", id));
        await WaitForStateAsync(server, second.ActionId, TaskState.Succeeded);

        await Eventually.WaitAsync(() => agent.Counters.ResultsAcknowledged, n => n == 1, Deadline, "the first result acknowledged by the second push");
        agent.PendingResults.Should().Be(1, "the second result's acknowledgement waits for a third push");
        (await server.GetActionAsync(first.ActionId)).Targets.Single().ResultCount.Should().Be(1);
        (await server.GetActionAsync(second.ActionId)).Targets.Single().ResultCount.Should().Be(1);
    }

    [Fact]
    public async Task ThroughATaskServer_TheResultsAcknowledgement_RidesOnTheTaskServersNextPush()
    {
        var ns = await StartNotificationServerAsync();
        Own(await TaskServerHost.StartAsync(Output, ns, "ts-a", configure: o => o.ResultAckDelay = TimeSpan.FromMinutes(1)));
        await WaitForTaskServersOnlineAsync(ns, 1);
        var agent = await StartAgentAsync(RealAgents.Options(await ns.Info.CreateInstallPackageAsync(), "PC-TS", null));
        var id = await RealAgents.WaitForIdAsync(agent);
        await Eventually.WaitAsync(() => agent.GetNetworkStatus().TaskServer, s => s?.Transport == TransportKind.Persistent, Deadline, "the Task Server channel");

        var first = await ns.PushThroughTaskServersAsync(TestTasks.Echo("one", id));
        await WaitForStateAsync(ns, first.ActionId, TaskState.Succeeded);
        (agent.PendingResults, agent.Counters.ResultsAcknowledged).Should().Be((1, 0L), "the Task Server holds the acknowledgement for its next push");

        var second = await ns.PushThroughTaskServersAsync(TestTasks.Echo("two", id));
        await WaitForStateAsync(ns, second.ActionId, TaskState.Succeeded);

        await Eventually.WaitAsync(() => agent.Counters.ResultsAcknowledged, n => n == 1, Deadline, "the first result acknowledged by the second push");
        agent.PendingResults.Should().Be(1);
        (await ns.GetActionAsync(first.ActionId)).Targets.Single().ResultCount.Should().Be(1);
    }
}
