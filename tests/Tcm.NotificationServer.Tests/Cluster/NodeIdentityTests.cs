using Tcm.NotificationServer.Cluster;

namespace Tcm.NotificationServer.Tests.Cluster;

public sealed class NodeIdentityTests
{
    [Fact]
    public void Default_IsTheServerNameAndPort_WithCharactersANodeNameMayNotHoldReplaced()
    {
        NodeIdentity.NameOf(new NotificationServerOptions { ServerName = "NS-01", Port = 4443 }).Should().Be("NS-01:4443");
        NodeIdentity.NameOf(new NotificationServerOptions { ServerName = "NS 01 (east)", Port = 4443 }).Should().Be("NS-01--east-:4443");
        NodeIdentity.NameOf(new NotificationServerOptions { ServerName = new string('n', 100), Port = 4443 })
            .Should().HaveLength(NodeIdentity.MaxLength).And.EndWith(":4443");
    }

    [Fact]
    public void Configured_IsTakenAsGiven()
    {
        NodeIdentity.Of(new NotificationServerOptions { ServerName = "NS-01", NodeName = " east-1 " }).Name.Should().Be("east-1");
    }

    [Theory]
    [InlineData("node a")]
    [InlineData("node,a")]
    [InlineData("nödé")]
    public void ConfiguredName_WithOtherCharacters_IsRefusedNamingTheSetting(string name)
    {
        var result = new NotificationServerOptionsValidator().Validate(null, new NotificationServerOptions { NodeName = name });

        result.Failed.Should().BeTrue();
        result.Failures.Should().ContainSingle(f => f.StartsWith("NotificationServer:NodeName", StringComparison.Ordinal)).Which.Should().Contain(name);
    }

    [Fact]
    public void ConfiguredName_LongerThanTheLimit_IsRefused()
    {
        var result = new NotificationServerOptionsValidator().Validate(null, new NotificationServerOptions { NodeName = new string('n', NodeIdentity.MaxLength + 1) });

        result.Failures.Should().ContainSingle(f => f.StartsWith("NotificationServer:NodeName", StringComparison.Ordinal)).Which.Should().Contain("1 to 64");
    }
}
