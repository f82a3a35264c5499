using Microsoft.AspNetCore.Http;
using Tcm.Gateway.Relay;
using Tcm.Protocol;

namespace Tcm.Gateway.Tests;

public sealed class RelayHeadersTests
{
    [Fact]
    public void IdentityHeaders_AreRemovedFromAnUpstreamRequest_OthersKept()
    {
        using var request = new System.Net.Http.HttpRequestMessage();
        request.Headers.TryAddWithoutValidation(SiteServerPaths.ForwardedAgentCertificateHeader, "claimed");
        request.Headers.TryAddWithoutValidation(SiteServerPaths.ViaHeader, "someone");
        request.Headers.TryAddWithoutValidation("If-None-Match", "\"v1\"");

        RelayHeaders.RemoveIdentity(request.Headers);

        request.Headers.Select(h => h.Key).Should().Equal("If-None-Match");
    }

    [Fact]
    public void IdentityHeaders_AreRemovedFromAResponse_OthersKept()
    {
        var headers = new HeaderDictionary
        {
            [SiteServerPaths.ForwardedAgentCertificateHeader] = "x",
            [SiteServerPaths.ViaHeader] = "gw0",
            ["X-Tcm-Refusal"] = "tcm-disabled",
        };

        RelayHeaders.RemoveIdentity(headers);

        headers.Keys.Should().Equal("X-Tcm-Refusal");
    }
}
