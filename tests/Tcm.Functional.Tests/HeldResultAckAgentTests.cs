namespace Tcm.Functional.Tests;

/// <summary>
/// A real agent with a real Notification Server (and a real Task Server) on 127.0.0.1: the agent accepts held result acknowledgements
/// and forgets a result when its acknowledgement rides on the next push (docs/protocol.md section 7), on either channel. The servers
/// hold for a minute, so within a test only the next push can bring the acknowledgement.
/// </summary>
public sealed class HeldResultAckAgentTests(ITestOutputHelper output) : SystemTest(output)
{
    private static readonly TimeSpan AMinute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task AResultsAcknowledgement_RidingOnTheNextPush_IsTakenByTheAgent_AndEachResultIsStoredOnce()
    {
        var server = await StartNotificationServerAsync(configure: o => o.ResultAckDelay = AMinute);
        var options = RealAgents.Options(await server.Info.CreateInstallPackageAsync(), "PC-01", null) with { HttpVersion = HttpVersion.Version20 };
        var agent = await StartAgentAsync(options);
        var id = await RealAgents.WaitForIdAsync(agent);
        await WaitForStatusAsync(agent, s => s.Transport == TransportKind.Persistent, "the persistent channel");

        await SecondPushCarriesTheFirstResultsAcknowledgementAsync(server, agent, id, server.PushTaskAsync);
    }

    [Fact]
    public async Task ThroughATaskServer_TheResultsAcknowledgement_RidesOnTheTaskServersNextPush()
    {
        var ns = await StartNotificationServerAsync();
        Own(await TaskServerHost.StartAsync(Output, ns, "ts-a", configure: o => o.ResultAckDelay = AMinute));
        await WaitForTaskServersOnlineAsync(ns, 1);
        var agent = await StartAgentAsync(RealAgents.Options(await ns.Info.CreateInstallPackageAsync(), "PC-TS", null));
        var id = await RealAgents.WaitForIdAsync(agent);
        await Eventually.WaitAsync(() => agent.GetNetworkStatus().TaskServer, s => s?.Transport == TransportKind.Persistent, Deadline, "the Task Server channel");

        await SecondPushCarriesTheFirstResultsAcknowledgementAsync(ns, agent, id, ns.PushThroughTaskServersAsync);
    }

    /// <summary>
    /// Two echoes pushed one after the other with <paramref name="push"/>: the first result stays with the agent until the second push
    /// acknowledges it; each result is stored once.
    /// </summary>
    private static async Task SecondPushCarriesTheFirstResultsAcknowledgementAsync(
        NotificationServerHost ns, TcmAgent agent, string id, Func<PushTaskRequest, CancellationToken, Task<ActionCreated>> push)
    {
        var first = await push(TestTasks.Echo("one", id), CancellationToken.None);
        await WaitForStateAsync(ns, first.ActionId, TaskState.Succeeded);
        (agent.PendingResults, agent.Counters.ResultsAcknowledged).Should().Be((1, 0L), "the server holds the acknowledgement for its next push");

        var second = await push(TestTasks.Echo("two", id), CancellationToken.None);
        await WaitForStateAsync(ns, second.ActionId, TaskState.Succeeded);

        await Eventually.WaitAsync(() => agent.Counters.ResultsAcknowledged, n => n == 1, Deadline, "the first result acknowledged by the second push");
        agent.PendingResults.Should().Be(1, "the second result's acknowledgement waits for a third push");
        (await ns.GetActionAsync(first.ActionId)).Targets.Single().ResultCount.Should().Be(1);
        (await ns.GetActionAsync(second.ActionId)).Targets.Single().ResultCount.Should().Be(1);
    }
}
