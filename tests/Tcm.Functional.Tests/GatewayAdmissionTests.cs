using System.Net.Security;
using System.Net.Sockets;
using Tcm.Gateway.Diagnostics;
using Tcm.Hosting.Listeners;

namespace Tcm.Functional.Tests;

/// <summary>
/// A real CEM gateway on 127.0.0.1 in front of a real Notification Server: the gateway holds a connection's handshake place
/// through its whole connect (TLS, the HTTP preface, the relayed upgrade), not TLS alone.
/// </summary>
public sealed class GatewayAdmissionTests(ITestOutputHelper output) : SystemTest(output)
{
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
