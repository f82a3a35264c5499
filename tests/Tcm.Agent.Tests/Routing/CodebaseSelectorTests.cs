using Tcm.Agent.Download;
using Tcm.Protocol;

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
        var candidates = CodebaseSelector.Order(codebases.Select(Of).ToArray(), cemPreferred ? Gateway : null, out var notUsed);

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
        var candidates = CodebaseSelector.Order(codebases.Select(Of).ToArray(), Gateway, out _);

        candidates.Should().NotBeEmpty().And.OnlyContain(c => c.Codebase.Kind == CodebaseKind.Https && c.ThroughGateway);
        candidates.Should().OnlyContain(c => c.Url!.Scheme == Uri.UriSchemeHttps && $"{c.Url.Host}:{c.Url.Port}" == Gateway);
    }

    [Fact]
    public void CemPreferred_HttpsGoesThroughTheGatewayRelay()
    {
        var candidate = CodebaseSelector.Order([Unc, Http, Https], Gateway, out var skipped).Single();

        candidate.Url.Should().Be(new Uri("https://gw.example:8443/relay/ps1.corp:443/packages/office.bin"));
        skipped.Should().OnlyContain(s => s.Contains("CEM is the preferred connection method", StringComparison.Ordinal));
    }

    [Fact]
    public void CemPreferred_ARelayUrlOnTheSameGateway_IsUsedAsItIs()
    {
        var relayed = new Codebase { Kind = CodebaseKind.Https, Location = "https://gw.example:8443/relay/ps1.corp:443/packages/office.bin" };

        CodebaseSelector.Order([relayed], Gateway, out _).Single().Url.Should().Be(new Uri(relayed.Location));
    }

    [Fact]
    public void Direct_CallsEachCodebaseItself()
    {
        var candidates = CodebaseSelector.Order([Https, Http, Unc], null, out _);

        candidates[0].Url.Should().BeNull("UNC has no URL");
        candidates[1].Url.Should().Be(new Uri(Http.Location));
        candidates[2].Url.Should().Be(new Uri(Https.Location));
    }

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
