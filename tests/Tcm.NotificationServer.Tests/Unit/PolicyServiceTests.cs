using System.Text.Json;
using Tcm.NotificationServer.Policy;

namespace Tcm.NotificationServer.Tests.Unit;

public sealed class PolicyServiceTests
{
    private static PolicyConfiguration Configuration(bool tcm = true, params CommunicationProfile[] profiles) =>
        new(1, new ServerSettings { TcmEnabled = tcm }, profiles.Length == 0 ? [PolicyService.DefaultProfile] : profiles, []);

    [Fact]
    public void Etag_IsStable_ForEqualInputs()
    {
        var agent = TargetMatcherTests.Agent();
        var first = PolicyService.Compute(Configuration(), agent, "ns:4443");
        var second = PolicyService.Compute(Configuration(), TargetMatcherTests.Agent(), "ns:4443");
        second.Etag.Should().Be(first.Etag);
        first.Etag.Should().MatchRegex("^[0-9a-f]{16}$");
    }

    [Fact]
    public void Etag_IsSha256OfThePolicyJsonWithoutTheEtag()
    {
        var policy = PolicyService.Compute(Configuration(), TargetMatcherTests.Agent(), "ns:4443");
        var json = JsonSerializer.SerializeToUtf8Bytes(policy with { Etag = "" }, ProtocolJsonContext.Default.PolicyDocument);
        policy.Etag.Should().Be(Convert.ToHexStringLower(SHA256.HashData(json))[..16]);
    }

    [Fact]
    public void Etag_Changes_WhenTheSettingChanges()
    {
        var agent = TargetMatcherTests.Agent();
        PolicyService.Compute(Configuration(tcm: true), agent, "ns:4443").Etag
            .Should().NotBe(PolicyService.Compute(Configuration(tcm: false), agent, "ns:4443").Etag);
    }

    [Fact]
    public void Profile_IsTheFirstByPriorityThenName_WhoseTargetsMatch()
    {
        var configuration = Configuration(true,
            new CommunicationProfile { Id = "b", Name = "B", Priority = 10 },
            new CommunicationProfile { Id = "a", Name = "A", Priority = 10 },
            new CommunicationProfile { Id = "first", Name = "Z", Priority = 1, Targets = new Targets { Agents = ["someone-else"] } });
        var sorted = configuration with { Profiles = PolicyLists.Profiles.Sort(configuration.Profiles) };

        var policy = PolicyService.Compute(sorted, TargetMatcherTests.Agent(), "ns:4443");
        policy.Communication.ProfileId.Should().Be("a");
        policy.Communication.ServerHosts.Should().Equal(["ns:4443"], "a profile without hosts gets the server's public address");
    }

    [Fact]
    public void NoProfile_MeansNoPersistentConnection_AndDefaultSettings()
    {
        var configuration = Configuration(true, new CommunicationProfile { Id = "x", Name = "X", Targets = new Targets { Agents = ["nobody"] } });
        var policy = PolicyService.Compute(configuration, TargetMatcherTests.Agent(), "ns:4443");
        policy.Communication.PersistentConnection.Should().BeFalse();
        policy.Communication.ProfileId.Should().BeNull();
        policy.Settings.Should().BeEquivalentTo(new AgentSettings());
        PolicyService.ChannelRefusal(policy).Should().Be(CloseReasons.NotTargeted);
        PolicyService.ChannelRefusal(PolicyService.Compute(Configuration(false), TargetMatcherTests.Agent(), "ns:4443")).Should().Be(CloseReasons.TcmDisabled);
    }
}
