using Reqnroll;
using Tcm.Features.Drivers;

namespace Tcm.Features.Steps;

/// <summary>The lab's proxy: the profile that sends agents through it, the proxy going down or changing its password, and what the agents show.</summary>
[Binding]
internal sealed class ProxySteps(LabDriver lab, AdminDriver admin, FleetDriver fleet)
{
    [Given("^the lab has a proxy that asks for a user name and password$")]
    public Task TheLabHasAProxy() => lab.RequireProxyAsync();

    // why the empty alternative: Reqnroll passes only the groups that took part in a match, and this one always does.
    [Given("^the Default communication profile sends agents through the proxy(| and allows a direct attempt when it fails)$")]
    public async Task ProfileSendsAgentsThroughTheProxy(string allowsDirect)
    {
        var proxy = await lab.RequireProxyAsync();
        await admin.ChangeDefaultProfileAsync(p => p with { Proxy = proxy with { AllowDirect = !string.IsNullOrEmpty(allowsDirect) } });
    }

    [When("^the proxy (stops|starts again)$")]
    public Task TheProxy(string what) => what == "stops" ? lab.StopServerAsync(LabDriver.Proxy, kill: true) : lab.StartServerAsync(LabDriver.Proxy);

    [When("^the proxy restarts with a new password$")]
    public Task TheProxyChangesItsPassword() => lab.ChangeProxyPasswordAsync();

    [Given(@"^""([^""]+)"" is started and both of its connections go through the proxy$")]
    public async Task StartedThroughTheProxy(string name)
    {
        await fleet.StartAsync(name);
        await WithinBothThroughTheProxy(TimeSpan.FromSeconds(20), name);
    }

    [Then(@"^within (\S+) ""([^""]+)"" is on the persistent connection directly, not through the proxy$")]
    public Task WithinDirectlyAfterTheProxyFailed(TimeSpan within, string name) =>
        fleet.WaitForAsync(name,
            v => v.Status is { Transport: Tcm.Protocol.Admin.TransportKind.Persistent, Proxy: null, ProxyProblem: not null },
            within,
            "to hold its persistent connection directly after the proxy failed");

    [Then(@"^within (\S+) ""([^""]+)"" is offline because of the proxy$")]
    public Task WithinOfflineBecauseOfTheProxy(TimeSpan within, string name) =>
        fleet.WaitForAsync(name,
            v => v.Running && v.Status is { Mode: Tcm.Protocol.Admin.ConnectionMode.Offline, Proxy: null, ProxyProblem: not null },
            within,
            "to reach no server, with the proxy's failure in its Network Status");

    [Then(@"^within (\S+) both of ""([^""]+)""'s connections go through the proxy$")]
    public Task WithinBothThroughTheProxy(TimeSpan within, string name) =>
        fleet.WaitForAsync(name,
            v => v.Status is { Transport: Tcm.Protocol.Admin.TransportKind.Persistent, Proxy: { } via } s
                && via.StartsWith(Tcm.Lab.Network.LabProxy.HostName + ":", StringComparison.Ordinal)
                && s.TaskServer is { Transport: Tcm.Protocol.Admin.TransportKind.Persistent, Proxy: not null },
            within,
            "to hold both persistent connections via the proxy");
}
