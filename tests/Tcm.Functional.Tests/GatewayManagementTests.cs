using System.Security.Cryptography;
using Tcm.Gateway.Diagnostics;

namespace Tcm.Functional.Tests;

/// <summary>
/// A real gateway reports to a real Notification Server over its site-server certificate, and the NS's admin API decides on
/// the certificates the gateway holds: the decision reaches the gateway within seconds, and the gateway keeps it across a restart.
/// </summary>
public sealed class GatewayManagementTests(ITestOutputHelper output) : SystemTest(output)
{
    [Fact]
    public async Task HeldCertificate_ListedByTheNs_ApprovedThroughTheNs_ThenPassesTheGateway_AndStaysApprovedAfterARestart()
    {
        var ns = await StartNotificationServerAsync();
        var gateway = Own(await GatewayHost.StartAsync(Output, [ns], configure: o => o.HoldUnknownCertificates = true));
        var view = await GatewayViewAsync(ns, g => g.Report is not null && g.Polling, "the gateway's first report and its decision poll");
        view.Registered.Should().BeTrue();
        view.Address.Should().EndWith($":{gateway.Port}", "the gateway reports the address it listens on once Kestrel is bound");
        view.Report!.Counters.Backends.Should().ContainSingle(b => b.Name == "ns1" && b.Kind == "NotificationServer");
        view.Report.Held.Should().BeEmpty();

        var agent = Own(await CemAgent.RegisterAsync(ns, "PC-A"));
        using var stranger = TestCertificates.SelfSignedClient("stranger");
        var thumbprint = stranger.GetCertHashString(HashAlgorithmName.SHA256);
        using var http = agent.Through(gateway, certificate: stranger);
        (await RefusalCodeAsync(http)).Should().Be(CloseReasons.CertificateHeld);

        // The gateway reports the new held certificate at once (a change), not at its 10-second interval.
        view = await GatewayViewAsync(ns, g => g.Report?.Held.Count == 1, "the held certificate in the gateway's report", TimeSpan.FromSeconds(5));
        var held = view.Report!.Held.Single();
        (held.Thumbprint, held.Subject, held.Attempts).Should().Be((thumbprint, "CN=stranger", 1));
        view.Report.Counters.CertificatesHeld.Should().Be(1);
        view.Report.Counters.RejectionsTotal.Should().BeGreaterThan(0);

        (await ns.Admin.PostAsync($"{TcmPaths.Admin}/gateways/{GatewayHost.Name}/certificates/{"AB".PadRight(64, '0')}/approve", null))
            .StatusCode.Should().Be(HttpStatusCode.NotFound, "only a certificate the gateway holds can be approved");
        (await ns.Admin.PostAsync($"{TcmPaths.Admin}/gateways/no-such-gateway/certificates/{thumbprint}/approve", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        using (var approved = await ns.Admin.PostAsync($"{TcmPaths.Admin}/gateways/{GatewayHost.Name}/certificates/{thumbprint.ToLowerInvariant()}/approve", null))
        {
            approved.StatusCode.Should().Be(HttpStatusCode.Accepted);
            (await approved.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.GatewayDecision))!.Action.Should().Be(GatewayCertificateAction.Approve);
        }

        // The decision reaches the gateway over its open poll, the gateway applies it and reports back.
        await Eventually.WaitAsync(async () => (await gateway.Admin.GetFromJsonAsync(GatewayPaths.Certificates, GatewayJsonContext.Default.CertificateList))!,
            list => list.Approved.Any(e => e.Thumbprint == thumbprint) && list.Held.Count == 0, TimeSpan.FromSeconds(5), "the approval applied on the gateway");
        view = await GatewayViewAsync(ns, g => g.Report?.Held.Count == 0 && g.Report.Counters.CertificatesApproved == 1 && g.PendingDecisions.Count == 0,
            "the gateway's report after the approval", TimeSpan.FromSeconds(5));

        // Past the gateway now: the NS itself answers (it knows no agent with that certificate, as it would not without the gateway).
        (await RefusalCodeAsync(http)).Should().Be(CloseReasons.BadCertificate);

        // The gateway keeps the decision across its restart; a block decided on the NS for a certificate it has not seen yet
        // reaches it after the restart too.
        await gateway.StopAsync();
        using var other = TestCertificates.SelfSignedClient("blocked-in-advance");
        var otherThumbprint = other.GetCertHashString(HashAlgorithmName.SHA256);
        (await ns.Admin.PostAsync($"{TcmPaths.Admin}/gateways/{GatewayHost.Name}/certificates/{otherThumbprint}/block", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await gateway.StartAsync();
        using var again = agent.Through(gateway, certificate: stranger);
        (await RefusalCodeAsync(again)).Should().Be(CloseReasons.BadCertificate, "the approval survived the gateway's restart");
        await GatewayViewAsync(ns, g => g.Report?.Counters is { CertificatesApproved: 1, CertificatesBlocked: 1 } && g.PendingDecisions.Count == 0,
            "the block applied after the restart");
        using var blocked = agent.Through(gateway, certificate: other);
        (await RefusalCodeAsync(blocked)).Should().Be(CloseReasons.CertificateBlocked);

        // The audit trail holds both decisions (the refused ones changed nothing), with who made them.
        var decisions = (await ns.GetAuditAsync("?kind=certificate")).Items;
        decisions.Select(e => (e.Who, e.Operation, e.Target)).Should().Equal(
            ("admin.key", "POST /gateways/{name}/certificates/{thumbprint}/block", $"{GatewayHost.Name}/{otherThumbprint}"),
            ("admin.key", "POST /gateways/{name}/certificates/{thumbprint}/approve", $"{GatewayHost.Name}/{thumbprint}"));
        decisions[1].After!.Value.GetProperty("action").GetString().Should().Be("Approve");
    }

    [Fact]
    public async Task GatewayWithReportsOff_IsListed_WithNoReport()
    {
        var ns = await StartNotificationServerAsync();
        Own(await GatewayHost.StartAsync(Output, [ns], configure: o => o.ReportInterval = TimeSpan.Zero));
        var gateways = await ns.AdminGetAsync("/gateways", ProtocolJsonContext.Default.IReadOnlyListGatewayView);
        var view = gateways.Should().ContainSingle().Which;
        (view.Name, view.Registered, view.Report, view.ReportedAt, view.Polling).Should().Be((GatewayHost.Name, true, (GatewayReport?)null, (DateTimeOffset?)null, false));
        (await ns.Admin.GetStringAsync("/openapi/v1.json")).Should().Contain("/tcm/admin/gateways").And.Contain("/tcm/admin/gateways/{name}/certificates/{thumbprint}/approve")
            .And.Contain("ApproveGatewayCertificate").And.Contain("BlockGatewayCertificate").And.NotContain(GatewayManagementPaths.Report);
    }

    private static Task<GatewayView> GatewayViewAsync(NotificationServerHost ns, Func<GatewayView, bool> condition, string what, TimeSpan? deadline = null) =>
        Eventually.WaitAsync(async () => (await ns.AdminGetAsync("/gateways", ProtocolJsonContext.Default.IReadOnlyListGatewayView)).Single(), condition, deadline ?? Deadline, what);

    /// <summary>The refusal code of a policy request through the gateway (the gateway's, or the NS's when the gateway let it through).</summary>
    private static async Task<string?> RefusalCodeAsync(CemHttp http)
    {
        using var response = await http.GetAsync(TcmPaths.Policy);
        return response.Headers.TryGetValues("X-Tcm-Refusal", out var values) ? values.Single() : $"HTTP {(int)response.StatusCode}";
    }
}
