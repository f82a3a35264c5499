using Microsoft.Extensions.Primitives;
using Tcm.Gateway.Relay;
using Tcm.Protocol;

namespace Tcm.Gateway.Tests;

public sealed class RelayHeadersTests
{
    [Theory]
    [InlineData("Connection")]
    [InlineData("keep-alive")]
    [InlineData("Transfer-Encoding")]
    [InlineData("Upgrade")]
    [InlineData("Host")]
    [InlineData("Sec-WebSocket-Key")]
    [InlineData(":authority")]
    [InlineData(SiteServerPaths.ForwardedAgentCertificateHeader)]
    [InlineData(SiteServerPaths.ViaHeader)]
    public void HopByHopAndIdentityHeaders_AreNotForwarded(string name) =>
        RelayHeaders.IsForwarded(name, StringValues.Empty).Should().BeFalse();

    [Theory]
    [InlineData("If-None-Match")]
    [InlineData("Content-Type")]
    [InlineData("Sec-WebSocket-Protocol")]
    [InlineData("Sec-WebSocket-Version")]
    [InlineData("X-Tcm-Refusal")]
    public void EndToEndHeaders_AreForwarded(string name) =>
        RelayHeaders.IsForwarded(name, StringValues.Empty).Should().BeTrue();

    [Fact]
    public void HeadersNamedByConnection_AreNotForwarded() =>
        RelayHeaders.IsForwarded("X-Custom-Hop", new StringValues("close, X-Custom-Hop")).Should().BeFalse();
}
