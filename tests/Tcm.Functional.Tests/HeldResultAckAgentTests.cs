namespace Tcm.Functional.Tests;

/// <summary>
/// A real agent and a real Notification Server on 127.0.0.1: the agent accepts held result acknowledgements and forgets a result
/// when its acknowledgement rides on the next push (docs/protocol.md section 7).
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
}
