namespace Tcm.Functional.Tests;

/// <summary>
/// The agent's keep-alive end to end (docs/protocol.md, Keep-alive): a real agent pings its NS and Task Server channels itself, on
/// one tick, through a real gateway and directly; the servers close a channel silent for two announced intervals, so a channel that
/// stays open past them was pinged.
/// </summary>
public sealed class AgentKeepAliveTests(ITestOutputHelper output) : SiteTest(output)
{
    private static readonly TimeSpan PastTwoIntervals = TimeSpan.FromSeconds(4);

    [Theory]
    [InlineData(ConnectionMode.Cem)]
    [InlineData(ConnectionMode.Direct)]
    public async Task OneSecondKeepAlive_BothChannelsStayOpenPastTwoIntervals_AndThroughTheGatewayItAnswersBoth(ConnectionMode mode)
    {
        var profile = await Ns.GetDefaultProfileAsync();
        await Ns.PutProfileAsync(profile with { Cem = new CemSettings { GatewayAddress = Gateway.Info.HostAndPort } });
        using (var response = await Ns.Admin.PostAsJsonAsync($"{TcmPaths.Admin}/agent-settings",
            new TargetedAgentSettings { Name = "keep-alive", Priority = 1, Settings = new AgentSettings { PreferCem = mode == ConnectionMode.Cem, KeepAliveSeconds = 1 } },
            ProtocolJsonContext.Default.TargetedAgentSettings))
        {
            response.EnsureSuccessStatusCode();
        }

        // why: on the laptop's VPN the NS is reachable directly; without it only through the gateway.
        Laptop.SetVpn(mode == ConnectionMode.Direct);
        var package = await Ns.Info.CreateInstallPackageAsync(profile.Id);
        var agent = await StartAgentAsync(RealAgents.Options(package, "PC-PING") with { ProbeTimeout = TimeSpan.FromSeconds(2) }, Laptop);
        await WaitForStatusAsync(agent,
            s => s.Mode == mode && s.Transport == TransportKind.Persistent && s.TaskServer is { Transport: TransportKind.Persistent } ts && ts.Mode == mode,
            $"both channels persistent, {mode}");
        var connects = (agent.Counters.ChannelConnects, agent.TaskServerCounters.ChannelConnects);

        // why: what is shown is that nothing closes, so time must pass: two announced intervals and more, after which the servers
        // (and the gateway) end a channel that sent nothing.
        await Eventually.HoldsForAsync(agent.GetNetworkStatus,
            s => s.Transport == TransportKind.Persistent && s.TaskServer is { Transport: TransportKind.Persistent },
            PastTwoIntervals, "both channels staying persistent");

        (agent.Counters.ChannelConnects, agent.TaskServerCounters.ChannelConnects).Should().Be(connects, "no channel was closed and opened again");
        var keepAlive = (await PrometheusScrape.ScrapeAsync(Gateway.Admin)).Sum("tcm_gateway_keepalive_total");
        if (mode == ConnectionMode.Cem)
        {
            keepAlive.Should().BeGreaterThanOrEqualTo(6, "the gateway answered or forwarded the pings of both channels, one a second each");
        }
        else
        {
            keepAlive.Should().Be(0, "directly no ping passes the gateway");
        }
    }
}
