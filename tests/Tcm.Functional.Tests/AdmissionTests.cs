using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Tcm.Gateway.Diagnostics;
using Tcm.Hosting.Listeners;

namespace Tcm.Functional.Tests;

/// <summary>
/// A real Notification Server on 127.0.0.1 that admits fewer channel upgrades at once than agents ask for, and real agents; a
/// real CEM gateway in front of one, which holds a connection's handshake place through its whole connect (TLS, the HTTP
/// preface, the relayed upgrade), not TLS alone.
/// </summary>
public sealed class AdmissionTests(ITestOutputHelper output) : SystemTest(output)
{
    private const int Agents = 8;

    [Fact]
    public async Task MoreAgentsThanTheServerAdmits_AreToldToComeBack_AndAllEndUpConnected()
    {
        var server = Own(await NotificationServerHost.StartAsync(Output, tcmEnabled: true, configure: o => o.Admission = new AdmissionOptions
        {
            MaxConcurrentUpgrades = 2,
            MaxQueued = 1,
            QueueTimeout = TimeSpan.FromSeconds(1),
        }));
        var upgrades = server.Services.GetRequiredService<ServerAdmission>().Upgrades;
        // The test takes both places, as a storm's first agents would: every agent that arrives meanwhile waits or is refused.
        (await upgrades.EnterAsync(default)).Should().Be(AdmissionOutcome.Admitted);
        (await upgrades.EnterAsync(default)).Should().Be(AdmissionOutcome.Admitted);
        var package = await server.Info.CreateInstallPackageAsync();

        var agents = await Task.WhenAll(Enumerable.Range(1, Agents).Select(i => StartAgentAsync(RealAgents.Options(package, $"PC-STORM-{i:D2}"))));

        foreach (var agent in agents)
        {
            await WaitForHttpBecauseAsync(agent, CloseReasons.ServerBusy);
        }

        upgrades.Refused.Should().BeGreaterThanOrEqualTo(Agents - 1, "at most one agent waited in the queue; the others were refused at once");
        upgrades.Exit(finished: true);
        upgrades.Exit(finished: true);

        foreach (var agent in agents)
        {
            await WaitForStatusAsync(agent, s => s.Transport == TransportKind.Persistent, "persistent after the server had room");
        }

        upgrades.Finished.Should().BeGreaterThanOrEqualTo(Agents + 2);
        agents.Sum(a => a.Counters.Refusals).Should().Be(0, "a busy server's hint is not a refusal of the channel");
    }

    [Fact]
    public async Task AConnectionThatClosesWhileQueuedForItsHandshake_LeavesTheQueueAtOnce()
    {
        // The longest queue timeout, far beyond the wait below: only the connection's close can take it out of the queue in time.
        var server = Own(await NotificationServerHost.StartAsync(Output, tcmEnabled: true, configure: o => o.Admission = new AdmissionOptions
        {
            MaxConcurrentHandshakes = 1,
            QueueTimeout = AdmissionOptions.MaxQueueTimeout,
        }));
        var handshakes = server.Services.GetRequiredService<ServerAdmission>().Handshakes;
        (await handshakes.EnterAsync(default)).Should().Be(AdmissionOutcome.Admitted, "the test holds the only place");

        using (var probe = new TcpClient())
        {
            // An agent's reachability probe: a TCP connect, closed before any byte.
            await probe.ConnectAsync(IPAddress.Loopback, server.Port);
            await Eventually.WaitAsync(() => handshakes.Queued == 1, "the connection to wait for a handshake place");
        }

        await Eventually.WaitAsync(() => handshakes.Queued == 0, TimeSpan.FromSeconds(5), "the closed connection to leave the queue");
        handshakes.Abandoned.Should().Be(1);
        handshakes.TimedOut.Should().Be(0);
        handshakes.Exit(finished: true);
        handshakes.Started.Should().Be(1, "the closed connection never took a place");
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task AConnectionToTheGateway_HoldsItsHandshakePlacePastTls_UntilItsChannelIsAcceptedOrItCloses(string httpVersion)
    {
        var ns = await StartNotificationServerAsync(tcmEnabled: true);
        // Limits far beyond the test's waits: only the connect's end can give a place back in time.
        var gateway = Own(await GatewayHost.StartAsync(Output, [ns], configure: o => o.Admission = new AdmissionOptions
        {
            MaxConcurrentHandshakes = 2,
            QueueTimeout = AdmissionOptions.MaxQueueTimeout,
            ConnectHoldLimit = AdmissionOptions.MaxConnectHoldLimit,
        }));
        var handshakes = gateway.Services.GetRequiredService<ServerAdmission>().Handshakes;
        var metrics = gateway.Services.GetRequiredService<GatewayMetrics>();
        var agent = Own(await CemAgent.RegisterAsync(ns, "PC-HOLD"));

        // A connection that finishes TLS and then says nothing: its connect is not done, so it keeps its place.
        using var silent = new TcpClient();
        await silent.ConnectAsync(IPAddress.Loopback, gateway.Port);
        await using var tls = new SslStream(silent.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [agent.Certificate],
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        });
        await Eventually.WaitAsync(() => metrics.AgentsConnected == 1, "the gateway to finish the silent connection's TLS handshake");
        handshakes.Active.Should().Be(1, "the silent connection holds its place after TLS");
        handshakes.Finished.Should().Be(0);

        var (channel, welcome) = await agent.ConnectAsync(gateway, Version.Parse(httpVersion));
        await using var _ = channel;
        welcome.AgentId.Should().Be(agent.Id);
        await Eventually.WaitAsync(() => handshakes.Finished == 1, "the channel's connection to give its place back once the backend accepted the channel");
        handshakes.Active.Should().Be(1, "the channel's connection stays open without a place; the silent one still holds its own");

        tls.Close();
        await Eventually.WaitAsync(() => handshakes.Active == 0, "the silent connection to give its place back when it closes");
        handshakes.Failed.Should().Be(1, "a connection that closed before its connect was done");
        handshakes.Expired.Should().Be(0);
        handshakes.TimedOut.Should().Be(0);
    }
}
