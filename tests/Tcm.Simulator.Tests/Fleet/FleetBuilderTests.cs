using Tcm.Simulator.Fleet;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Fleet;

public sealed class FleetBuilderTests
{
    private static readonly Scenario s_quickstart = ScenarioLoader.LoadOrThrow(Path.Combine(TestPaths.Scenarios, "quickstart.yaml"));

    [Fact]
    public void SameSeed_SameFleet()
    {
        var a = FleetBuilder.Build(s_quickstart, seed: 42);
        var b = FleetBuilder.Build(s_quickstart, seed: 42);

        a.Agents.Should().HaveCount(1000);
        a.Agents.Select(Fingerprint).Should().Equal(b.Agents.Select(Fingerprint));
        a.Domain.Should().Be(b.Domain);
    }

    [Fact]
    public void OtherSeed_OtherFleet()
    {
        var a = FleetBuilder.Build(s_quickstart, seed: 1);
        var b = FleetBuilder.Build(s_quickstart, seed: 2);

        a.Agents.Select(Fingerprint).Should().NotEqual(b.Agents.Select(Fingerprint));
    }

    [Fact]
    public void Shards_TogetherAreTheWholeFleet()
    {
        var whole = FleetBuilder.Build(s_quickstart, seed: 42);
        var shards = Enumerable.Range(0, 3).Select(i => FleetBuilder.Build(s_quickstart, seed: 42, shard: new ShardSpec(i, 3))).ToArray();

        shards.Select(s => s.Agents.Count).Should().Equal(334, 333, 333);
        shards.SelectMany(s => s.Agents).OrderBy(a => a.Index).Select(Fingerprint).Should().Equal(whole.Agents.Select(Fingerprint));
        shards[1].Agents.Should().OnlyContain(a => a.Index % 3 == 1);
    }

    [Fact]
    public void Groups_HaveTheirShares_Interleaved_AndTheirSettings()
    {
        var fleet = FleetBuilder.Build(s_quickstart, seed: 42);

        fleet.GroupCounts.Should().BeEquivalentTo(new Dictionary<string, int> { ["office"] = 400, ["home"] = 300, ["home-vpn"] = 300 });
        fleet.Agents.Take(30).Select(a => a.GroupName).Distinct().Should().HaveCount(3, "groups are shuffled so shards and prefixes are representative");
        fleet.Agents.Where(a => a.GroupName == "home-vpn").Should().OnlyContain(a =>
            a.Location == AgentLocation.Internet && a.Vpn == VpnState.Down && a.VpnAdapter!.Preset == "checkpoint");
        fleet.Agents.Where(a => a.GroupName == "office").Should().OnlyContain(a => a.Location == AgentLocation.Office && a.VpnAdapter == null);
    }

    [Fact]
    public void Agents_LookReal_AndAreUnique()
    {
        var fleet = FleetBuilder.Build(s_quickstart, seed: 42);

        fleet.Agents.Select(a => a.ComputerName).Should().OnlyHaveUniqueItems();
        fleet.Agents.Should().OnlyContain(a => a.ComputerName.Length <= 15 && a.OsName.StartsWith("Windows", StringComparison.Ordinal)
            && a.User.Contains('\\') && a.Software.Count >= 8 && a.Hardware.MemoryBytes >= 8L << 30);
        fleet.Agents.Where(a => a.VpnAdapter is not null).Should().OnlyContain(a => a.Software.Any(s => s.Name == "Check Point Endpoint Security VPN"));
    }

    [Fact]
    public void AgentsOverride_KeepsShares()
    {
        var fleet = FleetBuilder.Build(s_quickstart, seed: 42, agents: 10);

        fleet.Agents.Should().HaveCount(10);
        fleet.GroupCounts.Values.Should().Equal(4, 3, 3);
    }

    [Fact]
    public void FixedCounts_ScaleWithAgentsOverride()
    {
        var scenario = ScenarioLoader.Parse("""
            fleet:
              agents: 100
              groups:
                - { name: a, count: 75 }
                - { name: b, count: 25 }
            """, "t.yaml").Scenario!;

        FleetBuilder.ScaleCounts(scenario.Fleet, 100).Should().Equal(75, 25);
        FleetBuilder.ScaleCounts(scenario.Fleet, 8).Should().Equal(6, 2);
    }

    [Theory]
    [InlineData("0/4", 0, 4)]
    [InlineData("3/4", 3, 4)]
    public void Shard_Parses(string text, int index, int count)
    {
        ShardSpec.TryParse(text, out var shard, out _).Should().BeTrue();
        shard.Should().Be(new ShardSpec(index, count));
    }

    [Theory]
    [InlineData("4/4")]
    [InlineData("1")]
    [InlineData("a/b")]
    [InlineData("0/0")]
    public void Shard_RejectsNonsense(string text)
    {
        ShardSpec.TryParse(text, out _, out var error).Should().BeFalse();
        error.Should().Contain("--shard");
    }

    private static string Fingerprint(AgentSpec a) =>
        $"{a.Index}|{a.ComputerName}|{a.User}|{a.OsName}|{a.OsVersion}|{a.Site}|{a.GroupName}|{a.Hardware}|{string.Join(",", a.Software.Select(s => s.Name))}|{a.Seed}";
}
