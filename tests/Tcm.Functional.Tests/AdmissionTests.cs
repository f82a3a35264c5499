using System.Net;
using System.Net.Sockets;
using Tcm.Hosting.Listeners;

namespace Tcm.Functional.Tests;

/// <summary>A real Notification Server on 127.0.0.1 that admits fewer channel upgrades at once than agents ask for, and real agents.</summary>
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
}
