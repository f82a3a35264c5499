using FluentAssertions;
using Tcm.Features.Drivers;
using Tcm.Features.Runner;

namespace Tcm.Features.Steps;

/// <summary>One row of a package's codebases: kind (HTTPS, HTTP, UNC) and the site it serves (<c>internet</c> for a public one).</summary>
internal sealed record CodebaseRow(string Kind, string Site);

/// <summary>
/// Package downloads. The agent has no download client yet, the lab no package servers and the simulator's
/// <c>download-package</c> action is not implemented: the steps that need them are pending, naming what is missing.
/// </summary>
[Binding]
internal sealed class DownloadSteps(FleetDriver fleet)
{
    private const string Missing =
        "Missing capability: package downloads (the agent's download client and codebase selection, package servers registered in the lab's network, the simulator's download-package action; Routing issue).";

    [Given(@"^a package ""([^""]+)"" of (\S+) is available from these codebases:$")]
    public void PackageWithCodebases(string package, string size, DataTable codebases)
    {
        _ = codebases.CreateSet<CodebaseRow>();
        throw new PendingStepException(Missing);
    }

    [Given(@"^a package ""([^""]+)"" of (\S+) is available from an HTTPS codebase and a UNC codebase$")]
    public void PackageWithHttpsAndUnc(string package, string size) => throw new PendingStepException(Missing);

    [StepDefinition(@"^""([^""]+)"" downloads the package ""([^""]+)""$")]
    public void Downloads(string name, string package) => throw new PendingStepException(Missing);

    [Then(@"^""([^""]+)"" downloaded the package ""([^""]+)"" from its (HTTPS|HTTP|UNC) codebase(?: at site ""([^""]+)"")?$")]
    public void DownloadedFrom(string name, string package, string kind, string site) => throw new PendingStepException(Missing);

    [Then("^no package bytes went over the VPN adapter$")]
    public async Task NoPackageBytesOverVpn()
    {
        var traffic = await fleet.TrafficAsync();
        var downloaded = traffic.Where(c => c.Purpose == Tcm.Agent.Network.TrafficPurpose.Download).Sum(c => c.BytesReceived)
            - fleet.TrafficAtStart.Where(c => c.Purpose == Tcm.Agent.Network.TrafficPurpose.Download).Sum(c => c.BytesReceived);
        downloaded.Should().BePositive("a package must have been downloaded, or \"no package bytes over the VPN\" proves nothing");
        (await fleet.VpnBytesSinceAsync(fleet.TrafficAtStart, Tcm.Agent.Network.TrafficPurpose.Download)).Should().Be(0, "no package bytes may leave over a VPN adapter");
    }
}
