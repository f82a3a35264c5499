using FluentAssertions;
using Tcm.Features.Drivers;
using Tcm.Features.Runner;
using Tcm.Protocol;

namespace Tcm.Features.Steps;

/// <summary>One row of a package's codebases: kind (HTTPS, HTTP, UNC) and the site it serves (<c>internet</c> for a public one).</summary>
internal sealed record CodebaseRow(string Kind, string Site);

/// <summary>
/// Package downloads: packages published on the lab's package server (<c>pkg.tcm.lab</c>: UNC, HTTP and HTTPS codebases, the
/// HTTPS one also reachable through the gateway), downloaded by the agent's own download client. Codebases have no site
/// in the product and the lab has one package server, so steps that name sites are pending.
/// </summary>
[Binding]
internal sealed class DownloadSteps(LabDriver lab, FleetDriver fleet)
{
    private const string NoSites =
        "Missing capability: codebases at sites (the product's Codebase has a kind and a location only, the lab runs one package server), so codebases at several sites and the nearest one cannot be set up or checked.";

    [Given(@"^a package ""([^""]+)"" of (\S+) is available from these codebases:$")]
    public Task PackageWithCodebases(string package, string size, DataTable codebases)
    {
        var rows = codebases.CreateSet<CodebaseRow>().ToArray();
        if (rows.Select(r => r.Site).Where(s => !s.Equals("internet", StringComparison.OrdinalIgnoreCase)).Distinct(StringComparer.OrdinalIgnoreCase).Count() > 1)
        {
            throw new PendingStepException(NoSites);
        }

        return lab.PublishPackageAsync(package, size, [.. rows.Select(r => Enum.Parse<CodebaseKind>(r.Kind, ignoreCase: true))]);
    }

    [Given(@"^a package ""([^""]+)"" of (\S+) is available from an HTTPS codebase and a UNC codebase$")]
    public Task PackageWithHttpsAndUnc(string package, string size) => lab.PublishPackageAsync(package, size, [CodebaseKind.Https, CodebaseKind.Unc]);

    [StepDefinition(@"^""([^""]+)"" downloads the package ""([^""]+)""$")]
    public async Task Downloads(string name, string package) => await fleet.DownloadAsync(name, lab.Package(package));

    [Then(@"^""([^""]+)"" downloaded the package ""([^""]+)"" from its (HTTPS|HTTP|UNC) codebase(?: at site ""([^""]+)"")?$")]
    public void DownloadedFrom(string name, string package, string kind, string site)
    {
        if (site.Length > 0)
        {
            throw new PendingStepException(NoSites);
        }

        var published = lab.Package(package);
        var result = fleet.Download(name, published.Id);
        var because = $"\"{name}\" should have downloaded \"{package}\" from its {kind} codebase; notes: {string.Join("; ", result.Notes)}";
        result.Succeeded.Should().BeTrue(because);
        result.Codebase!.Kind.Should().Be(Enum.Parse<CodebaseKind>(kind, ignoreCase: true), because);
        result.Bytes.Should().Be(published.SizeBytes, because);
    }

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
