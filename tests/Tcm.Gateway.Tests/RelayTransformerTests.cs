using Microsoft.AspNetCore.Http;
using Tcm.Gateway.Relay;
using Tcm.Protocol;

namespace Tcm.Gateway.Tests;

public sealed class RelayTransformerTests
{
    private static readonly Uri Target = new("https://ns1.corp:4443/tcm/agent/policy?x=1");

    [Fact]
    public async Task IdentityHeadersFromTheAgent_AreReplacedByTheGateways()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers[SiteServerPaths.ForwardedAgentCertificateHeader] = "someone-else";
        context.Request.Headers[SiteServerPaths.ViaHeader] = "a-gateway-it-is-not";
        context.Request.Headers["If-None-Match"] = "\"v1\"";
        using var upstream = new System.Net.Http.HttpRequestMessage();

        await new RelayTransformer(Target, "agent-der", "gw1").TransformRequestAsync(context, upstream, "https://ns1.corp:4443", CancellationToken.None);

        upstream.Headers.GetValues(SiteServerPaths.ForwardedAgentCertificateHeader).Should().Equal("agent-der");
        upstream.Headers.GetValues(SiteServerPaths.ViaHeader).Should().Equal("gw1");
        upstream.Headers.GetValues("If-None-Match").Should().Equal("\"v1\"");
    }

    [Fact]
    public async Task AnAgentWithoutCertificate_ForwardsNoCertificate_EvenOneItClaims()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers[SiteServerPaths.ForwardedAgentCertificateHeader] = "claimed";
        using var upstream = new System.Net.Http.HttpRequestMessage();

        await new RelayTransformer(Target, null, "gw1").TransformRequestAsync(context, upstream, "https://ns1.corp:4443", CancellationToken.None);

        upstream.Headers.Contains(SiteServerPaths.ForwardedAgentCertificateHeader).Should().BeFalse();
    }

    [Fact]
    public async Task TheUpstreamRequest_NamesTheBackend_NotTheGateway()
    {
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString("gateway.example.com", 8443);
        context.Request.Path = "/relay/ns1.corp:4443/tcm/agent/policy";
        using var upstream = new System.Net.Http.HttpRequestMessage();

        await new RelayTransformer(Target, "agent-der", "gw1").TransformRequestAsync(context, upstream, "https://ns1.corp:4443", CancellationToken.None);

        upstream.RequestUri.Should().Be(Target);
        upstream.Headers.Host.Should().BeNull();
    }

    [Fact]
    public async Task IdentityHeadersFromTheBackend_DoNotReachTheAgent()
    {
        var context = new DefaultHttpContext();
        using var response = new System.Net.Http.HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new System.Net.Http.ByteArrayContent([]) };
        response.Headers.TryAddWithoutValidation(SiteServerPaths.ViaHeader, "gw0");
        response.Headers.TryAddWithoutValidation("ETag", "\"v2\"");

        var copyBody = await new RelayTransformer(Target, "agent-der", "gw1").TransformResponseAsync(context, response, CancellationToken.None);

        copyBody.Should().BeTrue();
        context.Response.Headers.ContainsKey(SiteServerPaths.ViaHeader).Should().BeFalse();
        context.Response.Headers.ETag.ToString().Should().Be("\"v2\"");
    }
}
