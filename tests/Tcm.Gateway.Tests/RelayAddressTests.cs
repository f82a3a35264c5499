using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Tests;

public sealed class RelayAddressTests
{
    [Theory]
    [InlineData("/relay/ns1.corp:4443/tcm/agent/policy", "ns1.corp:4443", "/tcm/agent/policy")]
    [InlineData("/relay/NS1.Corp:4443/tcm/agent/tasks?after=4", "ns1.corp:4443", "/tcm/agent/tasks?after=4")]
    [InlineData("/relay/127.0.0.1:4726", "127.0.0.1:4726", "/")]
    [InlineData("/relay/127.0.0.1:4726?x=1", "127.0.0.1:4726", "/?x=1")]
    [InlineData("/relay/[::1]:8443/tcm/agent/channel", "[::1]:8443", "/tcm/agent/channel")]
    public void WellFormedTargets_ParseToANormalisedBackendAndTheOriginalPath(string raw, string backend, string path)
    {
        RelayAddress.TryParse(raw, out var address, out var problem).Should().BeTrue(problem);
        address.Should().Be(new RelayAddress(backend, path));
    }

    [Theory]
    [InlineData(null, "relays only")]
    [InlineData("/tcm/agent/policy", "relays only")]
    [InlineData("/relayx/ns1:4443/", "relays only")]
    [InlineData("ns1.corp:443", "relays only")]
    [InlineData("/relay/ns1.corp/tcm/agent/policy", "is not host:port")]
    [InlineData("/relay/ns1.corp:/x", "is not host:port")]
    [InlineData("/relay/:4443/x", "is not host:port")]
    [InlineData("/relay/ns1.corp:0/x", "1..65535")]
    [InlineData("/relay/ns1.corp:65536/x", "1..65535")]
    [InlineData("/relay/ns1.corp:+44/x", "1..65535")]
    [InlineData("/relay/bad_host!:443/x", "is not a DNS name")]
    [InlineData("/relay/::1:443/x", "is not a DNS name")]
    [InlineData("/relay/ns1.corp:4443//evil.example/x", "must not start with '//'")]
    public void MalformedTargets_AreRefusedWithWhatIsWrong(string? raw, string says)
    {
        RelayAddress.TryParse(raw, out _, out var problem).Should().BeFalse();
        problem.Should().Contain(says);
    }
}
