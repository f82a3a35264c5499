using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Tcm.Gateway.Tests;

/// <summary>The gateway's socket transport schedules inline by default (<see cref="GatewayOptions.InlineSocketScheduling"/>), and not when turned off.</summary>
public sealed class InlineSocketSchedulingTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("false", false)]
    [InlineData("true", true)]
    public void TheGatewaysSocketTransport_FollowsTheSetting(string? configured, bool inline)
    {
        var builder = WebApplication.CreateSlimBuilder();
        var section = GatewayOptions.SectionName;
        // The gateway's options are validated when read: one backend makes them valid.
        builder.Configuration[$"{section}:{nameof(GatewayOptions.Name)}"] = "gw1";
        builder.Configuration[$"{section}:{nameof(GatewayOptions.Backends)}:0:{nameof(GatewayBackendOptions.Name)}"] = "ns1";
        builder.Configuration[$"{section}:{nameof(GatewayOptions.Backends)}:0:{nameof(GatewayBackendOptions.Address)}"] = "ns1.corp:4443";
        if (configured is not null)
        {
            builder.Configuration[$"{section}:{nameof(GatewayOptions.InlineSocketScheduling)}"] = configured;
        }

        builder.AddGateway();
        using var services = builder.Services.BuildServiceProvider();

        services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling.Should().Be(inline);
    }
}
