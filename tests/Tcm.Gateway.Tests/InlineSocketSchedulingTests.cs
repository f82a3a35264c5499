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
        if (configured is not null)
        {
            builder.Configuration[$"{GatewayOptions.SectionName}:{nameof(GatewayOptions.InlineSocketScheduling)}"] = configured;
        }

        builder.AddGateway();
        using var services = builder.Services.BuildServiceProvider();

        services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling.Should().Be(inline);
    }
}
