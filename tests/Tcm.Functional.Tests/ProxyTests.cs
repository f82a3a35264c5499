using Tcm.Agent.Network;
using Tcm.Lab.Packages;

namespace Tcm.Functional.Tests;

/// <summary>
/// An agent behind a proxy, end to end: a real NS, TS, gateway and package server on 127.0.0.1, and a real agent whose profile names
/// a proxy. Through Debian's tinyproxy (a CONNECT proxy no one here wrote) both channels, its HTTP requests and a download go through
/// the proxy, on the Direct and the CEM route; a proxy that is down or refuses the credentials is said in the Network Status.
/// </summary>
public sealed class ProxyTests(ITestOutputHelper output) : SiteTest(output)
{
    private const long PackageBytes = 64 * 1024;
    private static readonly NetworkCredential Credentials = new("agent", "s3cret-proxy");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Laptop.SetOffice(true);
        await WaitForTaskServersAsync(Ns, servers => servers.Count == 1, "the Task Server to report its address");
    }

    [TinyproxyTheory]
    [InlineData("direct", "1.1")]
    [InlineData("direct", "2.0")]
    [InlineData("cem", "1.1")]
    [InlineData("cem", "2.0")]
    public async Task ThroughTinyproxy_BothChannelsHttpAndADownload_GoThroughTheProxy(string route, string httpVersion)
    {
        await using var proxy = await Tinyproxy.StartAsync(ServerPorts(), Credentials);
        var mode = route == "cem" ? ConnectionMode.Cem : ConnectionMode.Direct;
        await ConfigureAsync(new ProxySettings { Mode = ProxyMode.Explicit, Address = proxy.Address, UserName = Credentials.UserName, Password = Credentials.Password },
            new AgentSettings { PreferCem = mode == ConnectionMode.Cem });
        var shown = await Ns.GetDefaultProfileAsync();
        shown.Proxy!.Password.Should().BeNull("the admin API never returns the proxy password");
        shown.Proxy.PasswordStored.Should().BeTrue();

        var agent = await StartAgentAsync(RealAgents.Options(await Ns.Info.CreateInstallPackageAsync("default"), "PC-PROXY") with
        {
            HttpVersion = Version.Parse(httpVersion),
            ProbeTimeout = TimeSpan.FromSeconds(2),
        }, Laptop);
        var status = await WaitForStatusAsync(agent,
            s => s.Mode == mode && s.Transport == TransportKind.Persistent && s.TaskServer is { Transport: TransportKind.Persistent } ts && ts.Mode == mode,
            $"both channels persistent, {route}, through the proxy");
        var viaProxy = $"127.0.0.1:{proxy.Port}";
        status.Proxy.Should().Be(viaProxy);
        status.TaskServer!.Proxy.Should().Be(viaProxy);
        status.ProxyProblem.Should().BeNull();

        var action = await Ns.PushTaskAsync(TestTasks.Echo("through the proxy", agent.AgentId!));
        (await WaitForStateAsync(Ns, action.ActionId, TaskState.Succeeded)).Targets.Single().DeliveredVia.Should().Be("persistent");

        var result = await agent.DownloadPackageAsync(OnLoopback(Packages.Publish("proxied", PackageBytes, [new(CodebaseKind.Https)])), CancellationToken.None);
        result.Succeeded.Should().BeTrue(string.Join("; ", result.Notes));
        result.Bytes.Should().Be(PackageBytes);
        result.ThroughGateway.Should().Be(mode == ConnectionMode.Cem);

        Laptop.Connections.Select(c => c.Port).Distinct().Should().Equal([proxy.Port], "every socket the agent opened went to the proxy");
        // Through CEM both channels share the gateway's one handler (purpose Management).
        Laptop.Connections.Select(c => c.Purpose).Should().Contain(mode == ConnectionMode.Cem
            ? [TrafficPurpose.Management, TrafficPurpose.Download]
            : [TrafficPurpose.Management, TrafficPurpose.TaskServer, TrafficPurpose.Download]);
        proxy.Log.Should().Contain("CONNECT");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProxyDown_DirectOnlyWhenTheProfileAllowsIt_AndNetworkStatusSaysWhy(bool allowDirect)
    {
        await ConfigureAsync(null, new AgentSettings());
        var agent = await StartAgentAsync(RealAgents.Options(await Ns.Info.CreateInstallPackageAsync("default"), "PC-DOWN"), Laptop);
        await WaitForStatusAsync(agent, s => s.Transport == TransportKind.Persistent && s.Proxy is null, "persistent directly before the proxy is set");

        var down = $"127.0.0.1:{LoopbackPorts.Free()}";
        await ConfigureAsync(new ProxySettings { Mode = ProxyMode.Explicit, Address = $"http://{down}", AllowDirect = allowDirect }, null);

        var expectedProblem = $"proxy {down} not reachable: connection refused";
        var status = allowDirect
            ? await WaitForStatusAsync(agent, s => s.Transport == TransportKind.Persistent && s.ProxyProblem == expectedProblem, "persistent directly after the proxy failed")
            : await WaitForStatusAsync(agent, s => s.Availability == "Not available" && s.ProxyProblem == expectedProblem, "not available, with the proxy's failure");
        status.Proxy.Should().BeNull("no tunnel through the proxy opened");
        if (!allowDirect)
        {
            await Eventually.HoldsForAsync(agent.GetNetworkStatus, s => s.Transport == TransportKind.Http, TimeSpan.FromSeconds(1), "no direct connection without the profile's leave");
        }
    }

    [TinyproxyFact]
    public async Task ProxyBackAfterAnOutage_AnAgentThatWentDirect_ReturnsThroughIt_BothChannels()
    {
        // The profile names a proxy that is down, and allows direct attempts: the agent registers and connects directly.
        var port = LoopbackPorts.Free();
        var viaProxy = $"127.0.0.1:{port}";
        await ConfigureAsync(new ProxySettings { Mode = ProxyMode.Explicit, Address = $"http://{viaProxy}", AllowDirect = true }, null);
        var agent = await StartAgentAsync(RealAgents.Options(await Ns.Info.CreateInstallPackageAsync("default"), "PC-RETURN") with
        {
            Backoff = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(200), Max = TimeSpan.FromSeconds(1) },
        }, Laptop);
        await WaitForStatusAsync(agent,
            s => s.Transport == TransportKind.Persistent && s.Proxy is null && s.ProxyProblem is not null
                && s.TaskServer is { Transport: TransportKind.Persistent, Proxy: null, ProxyProblem: not null },
            "both channels persistent directly while the proxy is down");

        // The proxy comes back: both channels return through it on the agent's back-off, without any other trigger.
        await using var proxy = await Tinyproxy.StartAsync(ServerPorts(), port: port);
        var status = await WaitForStatusAsync(agent,
            s => s.Transport == TransportKind.Persistent && s.Proxy == viaProxy && s.ProxyProblem is null
                && s.TaskServer is { Transport: TransportKind.Persistent } ts && ts.Proxy == viaProxy && ts.ProxyProblem is null,
            "both channels persistent through the proxy again");

        status.LastAttempt!.Proxy.Should().Be(viaProxy);
        proxy.Log.Should().Contain("CONNECT");
        var action = await Ns.PushTaskAsync(TestTasks.Echo("back through the proxy", agent.AgentId!));
        (await WaitForStateAsync(Ns, action.ActionId, TaskState.Succeeded)).Targets.Single().DeliveredVia.Should().Be("persistent");
    }

    [TinyproxyFact]
    public async Task ProxyRefusesTheCredentials_NetworkStatusSaysSo()
    {
        await using var proxy = await Tinyproxy.StartAsync(ServerPorts(), Credentials);
        await ConfigureAsync(null, new AgentSettings());
        var agent = await StartAgentAsync(RealAgents.Options(await Ns.Info.CreateInstallPackageAsync("default"), "PC-CRED"), Laptop);
        await WaitForStatusAsync(agent, s => s.Transport == TransportKind.Persistent, "persistent directly before the proxy is set");

        await ConfigureAsync(new ProxySettings { Mode = ProxyMode.Explicit, Address = proxy.Address, UserName = Credentials.UserName, Password = "not-the-password" }, null);

        var status = await WaitForStatusAsync(agent,
            s => s.Availability == "Not available" && (s.ProxyProblem?.Contains("refused the credentials of 'agent'", StringComparison.Ordinal) ?? false),
            "not available because the proxy refused the credentials");
        status.ProxyProblem.Should().StartWith($"proxy 127.0.0.1:{proxy.Port} refused the credentials of 'agent' (40");
        Tcm.Agent.Status.NetworkStatusText.Format(status, DateTime.UtcNow).Should().Contain($"Proxy:               direct ({status.ProxyProblem})");
    }

    /// <summary>The ports the proxy may CONNECT to: the NS, the TS, the gateway and the package server's HTTPS.</summary>
    private int[] ServerPorts() => [Ns.Port, new Uri("https://" + Ts.Info.Address).Port, Gateway.Port, Packages.HttpsPort];

    /// <summary>
    /// The default profile with <paramref name="proxy"/> and the gateway, and targeted settings (when given): the proxy is set, changed
    /// or removed by the admin API as an administrator would.
    /// </summary>
    private async Task ConfigureAsync(ProxySettings? proxy, AgentSettings? settings)
    {
        var profile = await Ns.GetDefaultProfileAsync();
        await Ns.PutProfileAsync(profile with { Proxy = proxy, Cem = new CemSettings { GatewayAddress = Gateway.Info.HostAndPort } });
        if (settings is not null)
        {
            var response = await Ns.Admin.PostAsJsonAsync($"{TcmPaths.Admin}/agent-settings",
                new TargetedAgentSettings { Name = "proxy", Priority = 1, Settings = settings }, ProtocolJsonContext.Default.TargetedAgentSettings);
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>The package with its codebases on 127.0.0.1: tinyproxy resolves names with the machine's DNS, which does not know the lab's.</summary>
    private static PackageReference OnLoopback(PackageReference package) => package with
    {
        Codebases = [.. package.Codebases.Select(c => c with { Location = c.Location.Replace(LabPackageServer.HostName, "127.0.0.1", StringComparison.Ordinal) })],
    };
}
