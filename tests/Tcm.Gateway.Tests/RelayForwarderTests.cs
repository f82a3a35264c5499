using System.Net;
using Microsoft.Extensions.Options;
using Tcm.Gateway.Relay;
using Yarp.ReverseProxy.Forwarder;

namespace Tcm.Gateway.Tests;

public sealed class RelayForwarderTests
{
    private static RelayForwarder Create(GatewayOptions options) => new(new UnusedForwarder(), Options.Create(options));

    [Fact]
    public void Tunnels_AreTimedByTheIdleTimeout_RequestsByTheResponseTimeout()
    {
        var forwarder = Create(new GatewayOptions { TunnelIdleTimeout = TimeSpan.FromMinutes(7), BackendResponseTimeout = TimeSpan.FromSeconds(42) });

        forwarder.Tunnel.ActivityTimeout.Should().Be(TimeSpan.FromMinutes(7));
        forwarder.Http.ActivityTimeout.Should().Be(TimeSpan.FromSeconds(42));
    }

    [Fact]
    public void TheDefaultIdleTimeout_OutlastsTheServersPingsOfAgentsThatAnnounceNone_AndYarpsRequestTimeout()
    {
        var forwarder = Create(new GatewayOptions());

        forwarder.Tunnel.ActivityTimeout.Should().BeGreaterThan(Tcm.Hosting.TcmChannelServerOptions.DefaultServerPingInterval * 2);
        forwarder.Tunnel.ActivityTimeout.Should().BeGreaterThan(TimeSpan.FromSeconds(100), "YARP's default activity timeout would cut a quiet channel");
    }

    [Theory]
    [InlineData(60, 300)]
    [InlineData(3600, 300)]
    [InlineData(1, 1)]
    public void ATunnelWhosePingsTheGatewayAnswers_GivesTheBackendTheSameTimeToAnswerItsUpgrade(int agentSeconds, int relayedSeconds)
    {
        var keepAlive = new Tcm.Gateway.KeepAlive.RelayedKeepAlive(TimeSpan.FromSeconds(agentSeconds), TimeSpan.FromSeconds(Math.Max(agentSeconds, relayedSeconds)));
        var options = new GatewayOptions();

        // why: the backend's answer to the upgrade keeps the time YARP's activity timeout of such a tunnel gave it.
        keepAlive.HandshakeTimeout(options.TunnelIdleTimeout).Should().BeGreaterThan(keepAlive.RelayedInterval + keepAlive.AgentInterval + Protocol.ProtocolConstants.DefaultKeepAliveTimeout);
        keepAlive.HandshakeTimeout(options.TunnelIdleTimeout).Should().BeGreaterThanOrEqualTo(options.TunnelIdleTimeout);
    }

    [Fact]
    public void AWatchedTunnel_HasNoActivityTimer_ItsAgentsSilenceIsTheWatchs()
    {
        var forwarder = Create(new GatewayOptions());

        forwarder.WatchedTunnel.ActivityTimeout.Should().Be(Timeout.InfiniteTimeSpan);
        forwarder.WatchedTunnel.Version.Should().Be(forwarder.Tunnel.Version);
        forwarder.WatchedTunnel.VersionPolicy.Should().Be(forwarder.Tunnel.VersionPolicy);
    }

    [Fact]
    public void Upstream_IsHttp2_OrLowerByAlpn_SoWebSocketsUseExtendedConnectWhereOffered()
    {
        var forwarder = Create(new GatewayOptions());

        foreach (var config in new[] { forwarder.Http, forwarder.Tunnel })
        {
            config.Version.Should().Be(HttpVersion.Version20);
            config.VersionPolicy.Should().Be(HttpVersionPolicy.RequestVersionOrLower);
        }
    }

    [Fact]
    public void EveryForwarderError_ReadsAsARelayError()
    {
        foreach (var error in Enum.GetValues<ForwarderError>())
        {
            error.ToRelayError().GetMessage().Should().NotBeNullOrEmpty(error.ToString());
        }
    }

    [Theory]
    [InlineData(ForwarderError.None, (int)RelayError.None)]
    [InlineData(ForwarderError.Request, (int)RelayError.BackendUnreachable)]
    [InlineData(ForwarderError.RequestTimedOut, (int)RelayError.BackendUnreachable)]
    [InlineData(ForwarderError.UpgradeActivityTimeout, (int)RelayError.TunnelIdle)]
    [InlineData(ForwarderError.UpgradeRequestClient, (int)RelayError.TunnelAgent)]
    [InlineData(ForwarderError.UpgradeResponseDestination, (int)RelayError.TunnelBackend)]
    [InlineData(ForwarderError.UpgradeResponseCanceled, (int)RelayError.Canceled)]
    [InlineData(ForwarderError.ResponseBodyClient, (int)RelayError.ResponseBodyAgent)]
    public void ForwarderErrors_AreNamedInTheGatewaysTerms(ForwarderError error, int expected) =>
        error.ToRelayError().Should().Be((RelayError)expected);

    private sealed class UnusedForwarder : IHttpForwarder
    {
        public ValueTask<ForwarderError> SendAsync(Microsoft.AspNetCore.Http.HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient,
            ForwarderRequestConfig requestConfig, HttpTransformer transformer) => throw new NotSupportedException();
    }
}
