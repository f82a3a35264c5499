using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tcm.Gateway.Tests;

public sealed class GatewayKeepAliveTests
{
    [Fact]
    public void ByDefault_AgentConnectionsAreNotPinged_BackendConnectionsAreEveryThirtySecondsWhileInUse()
    {
        var options = new GatewayOptions();
        var limits = new KestrelServerOptions().Limits.Http2;
        using var handler = new SocketsHttpHandler();

        GatewayKeepAlive.Apply(options, limits);
        GatewayKeepAlive.Apply(options, handler);

        limits.KeepAlivePingDelay.Should().Be(TimeSpan.MaxValue, "Kestrel's own default: no ping");
        handler.KeepAlivePingDelay.Should().Be(TimeSpan.FromSeconds(30));
        handler.KeepAlivePingTimeout.Should().Be(TimeSpan.FromSeconds(20));
        handler.KeepAlivePingPolicy.Should().Be(HttpKeepAlivePingPolicy.WithActiveRequests);
    }

    [Fact]
    public void ConfiguredDelays_ReachKestrelAndTheUpstreamHandler_WithTheSharedTimeout()
    {
        var options = new GatewayOptions
        {
            Http2KeepAlivePingDelay = TimeSpan.FromMinutes(5),
            BackendKeepAlivePingDelay = TimeSpan.FromSeconds(45),
            Http2KeepAlivePingTimeout = TimeSpan.FromSeconds(7),
        };
        var limits = new KestrelServerOptions().Limits.Http2;
        using var handler = new SocketsHttpHandler();

        GatewayKeepAlive.Apply(options, limits);
        GatewayKeepAlive.Apply(options, handler);

        limits.KeepAlivePingDelay.Should().Be(TimeSpan.FromMinutes(5));
        limits.KeepAlivePingTimeout.Should().Be(TimeSpan.FromSeconds(7));
        handler.KeepAlivePingDelay.Should().Be(TimeSpan.FromSeconds(45));
        handler.KeepAlivePingTimeout.Should().Be(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public void ZeroBackendDelay_LeavesTheUpstreamUnpinged()
    {
        using var handler = new SocketsHttpHandler();

        GatewayKeepAlive.Apply(new GatewayOptions { BackendKeepAlivePingDelay = TimeSpan.Zero }, handler);

        handler.KeepAlivePingDelay.Should().Be(Timeout.InfiniteTimeSpan);
    }
}
