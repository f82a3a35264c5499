namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>
/// What the Notification Server knows of a CEM gateway is in its store: the last report and the decisions the gateway has not
/// acknowledged survive the server's restart, and an acknowledgement removes a decision for good.
/// </summary>
public sealed class GatewayStateTests
{
    [Fact]
    public async Task ReportAndUnacknowledgedDecision_SurviveARestart_AndOnceAcknowledged_AreNotOfferedAgain()
    {
        await using var reported = await ReportedGateway.StartAsync();
        var (server, gateway, held) = (reported.Server, reported.Gateway, reported.Held);
        var decision = await gateway.DecideAsync(server, held, GatewayCertificateAction.Approve);

        await server.StopAsync();
        await server.StartAsync();

        var view = await gateway.ViewAsync(server);
        (view.Address, view.Report?.Held.Single().Thumbprint, view.ReportedAt is null).Should().Be(("gw1.example:8443", held, false), "the last report is kept");
        view.PendingDecisions.Should().ContainSingle().Which.Should().Be(decision, "a decision the gateway had not taken waits for it across the restart");
        (await gateway.PollAsync(server, waitSeconds: 10)).Should().ContainSingle().Which.Should().Be(decision);
        (await gateway.PollAsync(server, waitSeconds: 0, decision.Id)).Should().BeEmpty("the gateway acknowledged it");

        await server.StopAsync();
        await server.StartAsync();

        (await gateway.ViewAsync(server)).PendingDecisions.Should().BeEmpty("the acknowledgement removed it from the store");
        (await gateway.PollAsync(server, waitSeconds: 0)).Should().BeEmpty();
    }

    [Fact]
    public async Task LaterDecisionOnTheSameCertificate_ReplacesTheOneNotTaken_InTheStoreToo()
    {
        await using var reported = await ReportedGateway.StartAsync();
        var (server, gateway, held) = (reported.Server, reported.Gateway, reported.Held);

        await gateway.DecideAsync(server, held, GatewayCertificateAction.Approve);
        var block = await gateway.DecideAsync(server, held, GatewayCertificateAction.Block);
        await server.StopAsync();
        await server.StartAsync();

        (await gateway.PollAsync(server, waitSeconds: 10)).Should().Equal(block);
    }

    /// <summary>A server with a registered gateway that reported one held certificate (its thumbprint: <see cref="Held"/>).</summary>
    private sealed record ReportedGateway(NotificationServerHost Server, TestGateway Gateway, string Held) : IAsyncDisposable
    {
        public static async Task<ReportedGateway> StartAsync()
        {
            var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
            var gateway = await TestGateway.RegisterAsync(server);
            var held = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
            await gateway.ReportAsync(server, "gw1.example:8443", held);
            return new ReportedGateway(server, gateway, held);
        }

        public async ValueTask DisposeAsync()
        {
            Gateway.Dispose();
            await Server.DisposeAsync();
        }
    }
}
