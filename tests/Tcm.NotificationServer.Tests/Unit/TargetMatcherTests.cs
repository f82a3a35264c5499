using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Policy;

namespace Tcm.NotificationServer.Tests.Unit;

public sealed class TargetMatcherTests
{
    internal static AgentRecord Agent(string name = "PC-0042", string? domain = "corp.example", string? os = "Windows 11", Dictionary<string, string>? attributes = null) => new()
    {
        Id = "0123456789abcdef0123456789abcdef",
        ComputerName = name,
        Domain = domain,
        OsName = os,
        Attributes = attributes ?? new Dictionary<string, string> { ["site"] = "Berlin", ["group"] = "Sales" },
    };

    [Fact]
    public void All_MatchesEveryAgent() => TargetMatcher.Matches(Targets.Everyone, Agent()).Should().BeTrue();

    [Fact]
    public void EmptyTargets_MatchNobody() => TargetMatcher.Matches(new Targets(), Agent()).Should().BeFalse();

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("pc-0042")]
    public void AgentsList_MatchesByIdOrComputerName_CaseInsensitive(string entry) =>
        TargetMatcher.Matches(new Targets { Agents = ["other", entry] }, Agent()).Should().BeTrue();

    [Theory]
    [InlineData("computerName", "PC-*", true)]
    [InlineData("COMPUTERNAME", "pc-00??", true)]
    [InlineData("domain", "*.example", true)]
    [InlineData("os", "Windows*", true)]
    [InlineData("site", "ber*", true)]
    [InlineData("Site", "BERLIN", true)]
    [InlineData("site", "Paris", false)]
    [InlineData("department", "*", false)]
    public void SingleRule_MatchesAttributeWithWildcards(string attribute, string pattern, bool expected) =>
        TargetMatcher.Matches(new Targets { Rules = [new TargetRule(attribute, pattern)] }, Agent()).Should().Be(expected);

    [Fact]
    public void Rules_MustAllMatch()
    {
        var targets = new Targets { Rules = [new TargetRule("site", "Berlin"), new TargetRule("group", "Finance")] };
        TargetMatcher.Matches(targets, Agent()).Should().BeFalse();
        TargetMatcher.Matches(targets with { Rules = [new TargetRule("site", "Berlin"), new TargetRule("group", "S*")] }, Agent()).Should().BeTrue();
    }

    [Fact]
    public void MissingDomain_DoesNotMatchEvenAStar() =>
        TargetMatcher.Matches(new Targets { Rules = [new TargetRule("domain", "*")] }, Agent(domain: null)).Should().BeFalse();
}
