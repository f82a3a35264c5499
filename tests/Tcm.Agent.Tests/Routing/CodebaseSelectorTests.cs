using Tcm.Agent.Download;

namespace Tcm.Agent.Tests.Routing;

/// <summary>The support article's fix #2 as a table: which codebases an agent uses, in which order, and whom it calls for each.</summary>
public sealed class CodebaseSelectorTests
{
    private const string Gateway = "gw.example:8443";
    private static readonly Codebase Unc = new() { Kind = CodebaseKind.Unc, Location = @"\\ps1.corp\packages\office.bin" };
    private static readonly Codebase Http = new() { Kind = CodebaseKind.Http, Location = "http://ps1.corp/packages/office.bin" };
    private static readonly Codebase Https = new() { Kind = CodebaseKind.Https, Location = "https://ps1.corp:443/packages/office.bin" };
    private static readonly Codebase Https2 = new() { Kind = CodebaseKind.Https, Location = "https://ps2.corp:4443/packages/office.bin" };

    /// <summary>
    /// Columns: the package's codebases (U = UNC, H = HTTP, S = HTTPS on ps1, T = HTTPS on ps2, in the policy's order), whether CEM is
    /// preferred, the expected order of use (same letters), and how many are skipped.
    /// </summary>
    public static TheoryData<string, bool, string, int> Table => new()
    {
        { "UHS", false, "UHS", 0 },
        { "SHU", false, "UHS", 0 },
        { "HS", false, "HS", 0 },
        { "TS", false, "TS", 0 },
        { "S", false, "S", 0 },
        { "U", false, "U", 0 },
        { "", false, "", 0 },
        { "UHS", true, "S", 2 },
        { "SHU", true, "S", 2 },
        { "UH", true, "", 2 },
        { "U", true, "", 1 },
        { "TUS", true, "TS", 1 },
        { "S", true, "S", 0 },
        { "", true, "", 0 },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Order_FollowsTheTable(string codebases, bool cemPreferred, string expected, int skipped)
    {
        var candidates = CodebaseSelector.Order(codebases.Select(Of).ToArray(), cemPreferred ? Gateway : null, null, out var notUsed);

        string.Concat(candidates.Select(c => Letter(c.Codebase))).Should().Be(expected);
        notUsed.Should().HaveCount(skipped);
        candidates.All(c => c.ThroughGateway == cemPreferred).Should().BeTrue("through the gateway exactly when CEM is preferred");
    }

    [Theory]
    [InlineData("UHS")]
    [InlineData("TS")]
    [InlineData("SUT")]
    public void CemPreferred_NeverCallsACorporateCodebaseDirectly(string codebases)
    {
        var candidates = CodebaseSelector.Order(codebases.Select(Of).ToArray(), Gateway, null, out _);

        candidates.Should().NotBeEmpty().And.OnlyContain(c => c.Codebase.Kind == CodebaseKind.Https && c.ThroughGateway);
        candidates.Should().OnlyContain(c => c.Url!.Scheme == Uri.UriSchemeHttps && $"{c.Url.Host}:{c.Url.Port}" == Gateway);
    }

    [Fact]
    public void CemPreferred_HttpsGoesThroughTheGatewayRelay()
    {
        var candidate = CodebaseSelector.Order([Unc, Http, Https], Gateway, null, out var skipped).Single();

        candidate.Url.Should().Be(new Uri("https://gw.example:8443/relay/ps1.corp:443/packages/office.bin"));
        skipped.Should().OnlyContain(s => s.Contains("CEM is the preferred connection method", StringComparison.Ordinal));
    }

    [Fact]
    public void CemPreferred_ARelayUrlOnTheSameGateway_IsUsedAsItIs()
    {
        var relayed = new Codebase { Kind = CodebaseKind.Https, Location = "https://gw.example:8443/relay/ps1.corp:443/packages/office.bin" };

        CodebaseSelector.Order([relayed], Gateway, null, out _).Single().Url.Should().Be(new Uri(relayed.Location));
    }

    [Fact]
    public void Direct_CallsEachCodebaseItself()
    {
        var candidates = CodebaseSelector.Order([Https, Http, Unc], null, null, out _);

        candidates[0].Url.Should().BeNull("UNC has no URL");
        candidates[1].Url.Should().Be(new Uri(Http.Location));
        candidates[2].Url.Should().Be(new Uri(Https.Location));
    }

    /// <summary>
    /// Nearness without a CEM preference. Codebases as kind letter and site (<c>U@London</c> = UNC at London, <c>S@</c> = HTTPS
    /// without a site), in the policy's order; the agent's site (empty: none); the expected order of use.
    /// </summary>
    public static TheoryData<string, string, string> Nearness => new()
    {
        // The agent's own site first, whatever the kinds of the others.
        { "S@ U@Frankfurt H@London U@London", "London", "U@London H@London S@ U@Frankfurt" },
        // Sites compare case-insensitively.
        { "U@Frankfurt S@london", "LONDON", "S@london U@Frankfurt" },
        // Without a site (serves every site) before other sites, even when the other site's codebase is UNC.
        { "U@Frankfurt S@", "London", "S@ U@Frankfurt" },
        { "U@Frankfurt H@Frankfurt S@ H@", "Paris", "H@ S@ U@Frankfurt H@Frankfurt" },
        // Within a group: UNC, then HTTP, then HTTPS; within a kind, the policy's order.
        { "S@London H@London U@London", "London", "U@London H@London S@London" },
        { "S@Frankfurt H@Frankfurt U@Frankfurt U@Paris", "London", "U@Frankfurt U@Paris H@Frankfurt S@Frankfurt" },
        { "U@Paris U@Frankfurt", "London", "U@Paris U@Frankfurt" },
        // An agent without a site: codebases without a site are the nearest, then the rest.
        { "U@London H@ S@", "", "H@ S@ U@London" },
        { "S@Frankfurt U@London", "", "U@London S@Frankfurt" },
        // No sites anywhere: the kind order alone, as before sites existed.
        { "S@ H@ U@", "London", "U@ H@ S@" },
    };

    [Theory]
    [MemberData(nameof(Nearness))]
    public void Direct_OrdersByNearnessThenKind(string codebases, string agentSite, string expected)
    {
        var policy = codebases.Split(' ').Select(Parse).ToArray();

        var candidates = CodebaseSelector.Order(policy, null, agentSite, out var skipped);

        string.Join(' ', candidates.Select(c => Name(c.Codebase))).Should().Be(expected);
        skipped.Should().BeEmpty();
        candidates.Should().OnlyContain(c => !c.ThroughGateway);
    }

    [Fact]
    public void Direct_OwnSiteFirst_EvenWhenTheOwnSiteOffersOnlyHttps()
    {
        Codebase[] policy = [Parse("U@Frankfurt"), Parse("U@"), Parse("S@London")];

        var candidates = CodebaseSelector.Order(policy, null, "London", out _);

        candidates.Select(c => Name(c.Codebase)).Should().Equal("S@London", "U@", "U@Frankfurt");
    }

    [Fact]
    public void Direct_SaysWhyEachCodebaseIsInItsPlace()
    {
        Codebase[] policy = [Parse("U@Frankfurt"), Parse("S@"), Parse("U@London")];

        var candidates = CodebaseSelector.Order(policy, null, "London", out _);

        candidates[0].Reason.Should().Be("nearest: at the agent's site 'London'");
        candidates[1].Reason.Should().Contain("no site (serves every site)");
        candidates[2].Reason.Should().Contain("at site 'Frankfurt', not the agent's site 'London'");
    }

    [Fact]
    public void Direct_AgentWithoutASite_SaysSo()
    {
        var candidates = CodebaseSelector.Order([Parse("U@London"), Parse("S@")], null, null, out _);

        candidates.Select(c => Name(c.Codebase)).Should().Equal("S@", "U@London");
        candidates.Should().OnlyContain(c => c.Reason.Contains("the agent has no site", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("London")]
    [InlineData("Frankfurt")]
    [InlineData(null)]
    public void CemPreferred_IgnoresSites_HttpsThroughTheGatewayInThePolicysOrder(string? agentSite)
    {
        Codebase[] policy = [Parse("U@London"), Parse("S@Frankfurt"), Parse("H@London"), Parse("S@"), Parse("S@London")];

        var candidates = CodebaseSelector.Order(policy, Gateway, agentSite, out var skipped);

        candidates.Select(c => Name(c.Codebase)).Should().Equal("S@Frankfurt", "S@", "S@London");
        candidates.Should().OnlyContain(c => c.ThroughGateway && c.Reason.StartsWith("CEM is the preferred connection method", StringComparison.Ordinal));
        skipped.Should().HaveCount(2, "the UNC and HTTP codebases at London are not used, even for an agent at London");
    }

    /// <summary><c>U@London</c>: a UNC codebase at London; <c>S@</c>: an HTTPS codebase without a site. Locations are unique per kind and site.</summary>
    private static Codebase Parse(string text)
    {
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var site = text[(at + 1)..];
        var host = site.Length == 0 ? "pkg.example" : $"pkg-{site.ToLowerInvariant()}.corp";
        return text[..at] switch
        {
            "U" => new Codebase { Kind = CodebaseKind.Unc, Location = $@"\\{host}\packages\{text}.bin", Site = site.Length == 0 ? null : site },
            "H" => new Codebase { Kind = CodebaseKind.Http, Location = $"http://{host}/packages/office.bin", Site = site.Length == 0 ? null : site },
            _ => new Codebase { Kind = CodebaseKind.Https, Location = $"https://{host}/packages/office.bin", Site = site.Length == 0 ? null : site },
        };
    }

    private static string Name(Codebase codebase) =>
        $"{codebase.Kind switch { CodebaseKind.Unc => 'U', CodebaseKind.Http => 'H', _ => 'S' }}@{codebase.Site}";

    private static Codebase Of(char letter) => letter switch
    {
        'U' => Unc,
        'H' => Http,
        'S' => Https,
        _ => Https2,
    };

    private static char Letter(Codebase codebase) =>
        codebase == Unc ? 'U' : codebase == Http ? 'H' : codebase == Https ? 'S' : 'T';
}
