using Tcm.Agent.Status;

namespace Tcm.Functional.Tests;

/// <summary>
/// "Failures that say why", end to end: a real agent whose profile sends it through a gateway address where something other than a
/// TCM gateway answers. Its Network Status (and the text of <c>tcm agent status</c>, and its log) says what the last attempt dialled, on
/// which route, and what answered: a server whose certificate it does not trust (which certificate, and why), or a web server that is not TCM.
/// </summary>
public sealed class FailuresThatSayWhyTests(ITestOutputHelper output) : SiteTest(output)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Laptop.SetOffice(true);
    }

    [Fact]
    public async Task ServerWithACertificateTheAgentDoesNotTrust_TheAttemptNamesTheCertificateAndWhy()
    {
        using var ca = TestCertificates.Ca("Someone Else's CA");
        using var certificate = TestCertificates.Issue(ca, "CN=www.example.test", clientAuth: false, serverAuth: true);
        await using var foreign = await ForeignHttpsServer.StartAsync(certificate);

        var attempt = await LastAttemptThroughAsync(foreign, "PC-TLS", AttemptOutcome.TlsFailure);

        attempt.Certificate!.Subject.Should().Be("CN=www.example.test");
        attempt.Certificate.Issuer.Should().Be("CN=Someone Else's CA");
        attempt.Certificate.Thumbprint.Should().Be(certificate.Thumbprint);
        attempt.Certificate.ValidationError.Should().Be($"it is not issued under the CA the agent trusts ('{Ns.Info.CaCertificate.Subject}')");
        attempt.Detail.Should().Be($"TLS with {foreign.HostAndPort} failed: the server's certificate 'CN=www.example.test' (issuer 'CN=Someone Else's CA', "
            + $"thumbprint {certificate.Thumbprint}) was rejected: it is not issued under the CA the agent trusts ('{Ns.Info.CaCertificate.Subject}')");
    }

    [Fact]
    public async Task HttpServerThatIsNotTcm_TheAttemptSaysItIsNotATcmServer()
    {
        // A certificate the agent trusts: the TLS handshake succeeds, and what answers is a web server without TCM.
        using var certificate = Ns.Info.IssueServerCertificate(["localhost"], [IPAddress.Loopback]);
        await using var foreign = await ForeignHttpsServer.StartAsync(certificate);

        var attempt = await LastAttemptThroughAsync(foreign, "PC-404", AttemptOutcome.NotTcm);

        attempt.HttpStatus.Should().Be(404);
        attempt.RefusalCode.Should().BeNull();
        attempt.Certificate.Should().BeNull();
        attempt.Detail.Should().Be($"HTTP 404 from {foreign.HostAndPort}, which is not a TCM server (no X-Tcm-Refusal in its answer)");
    }

    /// <summary>
    /// An agent told to prefer CEM through <paramref name="foreign"/> as its gateway: waits for its last channel attempt to end in
    /// <paramref name="outcome"/>, checks what the attempt says it dialled, and that <c>tcm agent status</c> shows it.
    /// </summary>
    private async Task<ConnectionAttempt> LastAttemptThroughAsync(ForeignHttpsServer foreign, string computerName, AttemptOutcome outcome)
    {
        var profile = await Ns.GetDefaultProfileAsync();
        await Ns.PutProfileAsync(profile with { Cem = new CemSettings { GatewayAddress = foreign.HostAndPort } });
        using (var response = await Ns.Admin.PostAsJsonAsync($"{TcmPaths.Admin}/agent-settings",
            new TargetedAgentSettings { Name = "internet", Priority = 1, Settings = new AgentSettings { PreferCem = true } }, ProtocolJsonContext.Default.TargetedAgentSettings))
        {
            response.EnsureSuccessStatusCode();
        }

        var logs = new CollectingLoggerProvider();
        var agent = await StartAgentAsync(RealAgents.Options(await Ns.Info.CreateInstallPackageAsync("default"), computerName), Laptop, logs: logs);
        var status = await WaitForStatusAsync(agent, s => s.LastAttempt?.Outcome == outcome, $"the last attempt to end in {outcome}");

        var attempt = status.LastAttempt!;
        attempt.Address.Should().Be(foreign.HostAndPort, "the attempt names the address it dialled: the profile's gateway");
        attempt.Route.Should().Be(ConnectionMode.Cem);
        attempt.Target.Should().Be($"localhost:{Ns.Port}", "the server asked for through the gateway");
        attempt.Proxy.Should().BeNull();
        status.Transport.Should().Be(TransportKind.Http);
        NetworkStatusText.Format(status, DateTime.UtcNow).Should().Contain(attempt.Detail);
        logs.Entries.Should().Contain(
            e => e.Level == LogLevel.Warning && e.Message.StartsWith("Connecting to CEM gateway '", StringComparison.Ordinal)
                && e.Message.EndsWith($"' at {foreign.HostAndPort} failed (route Cem, proxy none): {outcome}: {attempt.Detail}", StringComparison.Ordinal),
            "the agent's log says what it dialled, on which route, without a proxy, and what answered");
        return attempt;
    }
}
