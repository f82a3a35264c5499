using FluentAssertions;
using Reqnroll;
using Tcm.Features.Drivers;
using Tcm.Protocol;
using Tcm.Lab.Packages;

namespace Tcm.Features.Steps;

/// <summary>One row of a package's codebases: kind (HTTPS, HTTP, UNC) and the site it serves (<c>internet</c> for a public one, no site).</summary>
internal sealed record CodebaseRow(string Kind, string Site);

/// <summary>
/// Package downloads: packages published on the lab's package server (<c>pkg.tcm.lab</c>, and <c>pkg.{site}.tcm.lab</c> for a
/// site's UNC and HTTP codebases; every HTTPS codebase is also reachable through the gateway), downloaded by the agent's own
/// download client, which picks the codebase (nearest first unless CEM is preferred).
/// </summary>
[Binding]
internal sealed class DownloadSteps(LabDriver lab, FleetDriver fleet)
{
    /// <summary>The site column's word for a public codebase, which serves every site (no site in the policy).</summary>
    private const string Internet = "internet";

    [Given(@"^a package ""([^""]+)"" of (\S+) is available from these codebases:$")]
    public Task PackageWithCodebases(string package, string size, DataTable codebases) =>
        lab.PublishPackageAsync(package, size, [.. codebases.CreateSet<CodebaseRow>().Select(r => new CodebaseSpec(
            Enum.Parse<CodebaseKind>(r.Kind, ignoreCase: true),
            string.IsNullOrWhiteSpace(r.Site) || r.Site.Trim().Equals(Internet, StringComparison.OrdinalIgnoreCase) ? null : r.Site.Trim()))]);

    [Given(@"^a package ""([^""]+)"" of (\S+) is available from an HTTPS codebase and a UNC codebase$")]
    public Task PackageWithHttpsAndUnc(string package, string size) =>
        lab.PublishPackageAsync(package, size, [new CodebaseSpec(CodebaseKind.Https), new CodebaseSpec(CodebaseKind.Unc)]);

    [StepDefinition(@"^""([^""]+)"" downloads the package ""([^""]+)""$")]
    public async Task Downloads(string name, string package) => await fleet.DownloadAsync(name, lab.Package(package));

    [Then(@"^""([^""]+)"" downloaded the package ""([^""]+)"" from its (HTTPS|HTTP|UNC) codebase$")]
    public void DownloadedFrom(string name, string package, string kind) => DownloadedFrom(name, package, kind, "");

    [Then(@"^""([^""]+)"" downloaded the package ""([^""]+)"" from its (HTTPS|HTTP|UNC) codebase at site ""([^""]+)""$")]
    public void DownloadedFrom(string name, string package, string kind, string site)
    {
        var published = lab.Package(package);
        var result = fleet.Download(name, published.Id);
        var because = $"\"{name}\" should have downloaded \"{package}\" from its {kind} codebase; notes: {string.Join("; ", result.Notes)}";
        result.Succeeded.Should().BeTrue(because);
        result.Codebase!.Kind.Should().Be(Enum.Parse<CodebaseKind>(kind, ignoreCase: true), because);
        result.Bytes.Should().Be(published.SizeBytes, because);
        if (site.Length > 0)
        {
            var at = site.Equals(Internet, StringComparison.OrdinalIgnoreCase) ? null : site;
            result.Codebase.Site.Should().Be(at, $"{because}; the codebase used was {result.Codebase.Location} ({result.Reason})");
        }
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
