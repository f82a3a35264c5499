using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using Tcm.Channels.Framing;
using Tcm.Gateway.Diagnostics;
using Tcm.Gateway.KeepAlive;

namespace Tcm.Functional.Tests;

/// <summary>
/// A real CEM gateway in front of real Notification Servers (and a Task-Server-like stub), with clients that present real
/// agent certificates obtained by registering: HTTP and the channel through the relay, restarts under live tunnels, and
/// every refusal with its reason while the other agents carry on.
/// </summary>
public sealed class GatewayTests(ITestOutputHelper output) : SystemTest(output)
{
    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task HttpAndChannels_ReachTwoNotificationServers_ThroughOneGateway(string httpVersion)
    {
        var version = Version.Parse(httpVersion);
        var ns1 = await StartServerAsync();
        var ns2 = await StartServerAsync();
        var gateway = await StartGatewayAsync([ns1, ns2]);
        var a = await RegisterAsync(ns1, "PC-A");
        var b = await RegisterAsync(ns2, "PC-B");

        foreach (var agent in new[] { a, b })
        {
            using var http = agent.Through(gateway, version: version);
            using var response = await http.GetAsync(TcmPaths.Policy);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            response.Version.Should().Be(version);
            (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.PolicyDocument))!.AgentId.Should().Be(agent.Id);
        }

        var (channelA, welcomeA) = await a.ConnectAsync(gateway, version);
        var (channelB, welcomeB) = await b.ConnectAsync(gateway, version);
        await using var _ = channelA;
        await using var __ = channelB;
        welcomeA.AgentId.Should().Be(a.Id);
        welcomeB.AgentId.Should().Be(b.Id);

        var action = await ns1.PushTaskAsync(TestTasks.Echo("through the gateway", a.Id));
        var push = await channelA.ReceiveAsync<TaskPushMessage>();
        await channelA.SendAsync(new AckMessage { UpToSeq = push.Seq });
        await channelA.SendAsync(TestTasks.Succeeded(a.Id, push, "through the gateway"));
        await channelA.ReceiveAsync<AckMessage>(ack => ack.Keys?.Contains($"{a.Id}:{push.TaskId}") == true);
        var target = (await WaitForStateAsync(ns1, action.ActionId, TaskState.Succeeded)).Targets.Single();
        target.DeliveredVia.Should().Be("persistent");
        target.ResultCount.Should().Be(1);

        var viewed = await ns1.GetAgentAsync(a.Id);
        viewed.Mode.Should().Be(ConnectionMode.Cem);
        viewed.Route.Should().Be($"cem via {GatewayHost.Name}");
        (await ns2.GetAgentAsync(b.Id)).Route.Should().Be($"cem via {GatewayHost.Name}");

        var status = await gateway.GetStatusAsync();
        status.Backends.Select(s => (s.Name, s.TunnelsOpen)).Should().BeEquivalentTo(new[] { ("ns1", 1L), ("ns2", 1L) });
        status.BytesToAgents.Should().BeGreaterThan(0);
        status.BytesToBackends.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task GatewayMetrics_BehindItsAdminKey_ShowTunnelsConnectsBytesAndRejectionsMoving_AndTheNsCountsTheChannelAsGatewayRouted()
    {
        var ns = await StartServerAsync();
        var gateway = await StartGatewayAsync([ns]);
        using (var anonymous = new HttpClient(CemAgent.CreateHandler(gateway.Trust, null)) { BaseAddress = new Uri(gateway.Info.BaseUrl) })
        {
            (await anonymous.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        var before = await PrometheusScrape.ScrapeAsync(gateway.Admin);
        var a = await RegisterAsync(ns, "PC-A");
        var (channel, _) = await a.ConnectAsync(gateway, HttpVersion.Version20);
        await using var _ = channel;
        using (var http = a.Through(gateway, backend: "ns1.corp:4444"))
        {
            await RefusalAsync(await http.GetAsync(TcmPaths.Policy), HttpStatusCode.Forbidden, CloseReasons.BackendNotConfigured);
        }

        var after = await Eventually.WaitAsync(
            ct => PrometheusScrape.ScrapeAsync(gateway.Admin, ct),
            s => s.Sum("tcm_gateway_tunnels") == 1 && s.Sum("tcm_gateway_rejections_total") > before.Sum("tcm_gateway_rejections_total"),
            Deadline, "the tunnel and the rejection to show in the gateway's /metrics");
        after.Sum("tcm_gateway_tunnels", "backend=\"ns1\"").Should().Be(1);
        after.Sum("tcm_gateway_rejections_total", $"code=\"{CloseReasons.BackendNotConfigured}\"").Should().Be(1);
        after.Sum("tcm_gateway_connects_total").Should().BeGreaterThan(before.Sum("tcm_gateway_connects_total"));
        after.Sum("tcm_gateway_agents_connected").Should().BeGreaterThanOrEqualTo(1);
        after.Sum("tcm_gateway_bytes_total", "direction=\"to-agent\"").Should().BeGreaterThan(before.Sum("tcm_gateway_bytes_total", "direction=\"to-agent\""));
        var atNs = await PrometheusScrape.ScrapeAsync(ns.Admin);
        atNs.Sum("tcm_ns_connections_live", "route=\"gateway\"").Should().Be(1);
    }

    [Fact]
    public async Task ForwardedAgentCertificateHeader_FromAnyoneButAGateway_IsRefused()
    {
        var ns = await StartServerAsync();
        var a = await RegisterAsync(ns, "PC-A");
        var b = await RegisterAsync(ns, "PC-B");
        using var http = new HttpClient(CemAgent.CreateHandler(ns.Info.CaCertificate, a.Certificate)) { BaseAddress = new Uri(ns.Info.BaseUrl) };
        using var request = new HttpRequestMessage(HttpMethod.Get, TcmPaths.Policy);
        request.Headers.Add(SiteServerPaths.ForwardedAgentCertificateHeader, Convert.ToBase64String(b.Certificate.RawData));

        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.GetValues("X-Tcm-Refusal").Should().Equal(CloseReasons.BadCertificate);
        (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().Contain("only from a CEM gateway");
    }

    [Theory]
    [InlineData("backend", "2.0", true)]
    [InlineData("gateway", "1.1", false)]
    public async Task Restarted_UnderLiveTunnels_AgentsReconnect_AndNothingIsLost(string restarted, string httpVersion, bool ackBeforeResult)
    {
        var ns = await StartServerAsync();
        var gateway = await StartGatewayAsync([ns]);
        var a = await RegisterAsync(ns, "PC-A");
        Func<Task> stop = restarted == "gateway" ? gateway.StopAsync : () => ns.StopAsync();
        Func<Task> start = restarted == "gateway" ? gateway.StartAsync : () => ns.StartAsync();
        var (channel, _) = await a.ConnectAsync(gateway, Version.Parse(httpVersion));
        var action = await ns.PushTaskAsync(TestTasks.Echo($"survives the {restarted}", a.Id));
        var push = await channel.ReceiveAsync<TaskPushMessage>();
        // Received but not acknowledged: the server must send it again after the restart.

        await stop();
        var (message, _, _) = await ReceiveUntilEndAsync(channel);
        message.Should().BeNull($"the tunnel ends when its {restarted} goes away");
        await channel.DisposeAsync();
        await start();
        await Eventually.WaitAsync(() => ns.GetAgentAsync(a.Id), i => !i.Connected, Deadline, "the NS to see the channel gone");

        var (again, _) = await ReconnectAsync(a, gateway);
        await using (again)
        {
            var resent = await again.ReceiveAsync<TaskPushMessage>();
            resent.TaskId.Should().Be(push.TaskId);
            if (ackBeforeResult)
            {
                await again.SendAsync(new AckMessage { UpToSeq = resent.Seq });
            }

            await again.SendAsync(TestTasks.Succeeded(a.Id, resent, $"survives the {restarted}"));
            await again.ReceiveAsync<AckMessage>(ack => ack.Keys is { Count: > 0 });
        }

        (await WaitForStateAsync(ns, action.ActionId, TaskState.Succeeded)).Targets.Single().ResultCount.Should().Be(1);
    }

    [Fact]
    public async Task Refusals_SayWhy_WhileOtherAgentsCarryOn()
    {
        var ns = await StartServerAsync();
        var gateway = await StartGatewayAsync([ns]);
        var a = await RegisterAsync(ns, "PC-A");
        var b = await RegisterAsync(ns, "PC-B");
        var (channel, _) = await a.ConnectAsync(gateway, HttpVersion.Version20);
        await using var _ = channel;

        // A backend the gateway is not configured for: the refusal names the mismatch.
        using (var http = b.Through(gateway, backend: "ns1.corp:4444"))
        {
            var refusal = await RefusalAsync(await http.GetAsync(TcmPaths.Policy), HttpStatusCode.Forbidden, CloseReasons.BackendNotConfigured);
            refusal.Detail.Should().Be($"no backend 'ns1.corp:4444' is configured on gateway '{GatewayHost.Name}'; configured: {a.Backend}");
        }

        var channelRefused = await FluentActions.Awaiting(() => b.OpenChannelAsync(gateway, HttpVersion.Version20, backend: $"127.0.0.1:{ns.Port + 1}"))
            .Should().ThrowAsync<ChannelRefusedException>();
        channelRefused.Which.Code.Should().Be(CloseReasons.BackendNotConfigured);

        // Certificates: none, and one no configured CA issued.
        using var stranger = TestCertificates.SelfSignedClient("stranger");
        using (var http = b.Through(gateway, certificate: stranger))
        {
            (await RefusalAsync(await http.GetAsync(TcmPaths.Policy), HttpStatusCode.Unauthorized, CloseReasons.BadCertificate)).Detail
                .Should().Contain($"not issued by a CA configured on gateway '{GatewayHost.Name}'");
        }

        using (var anonymous = new HttpClient(CemAgent.CreateHandler(gateway.Trust, null)))
        {
            (await RefusalAsync(await anonymous.GetAsync($"{gateway.Info.BaseUrl}/relay/{a.Backend}{TcmPaths.Policy}"), HttpStatusCode.Unauthorized, CloseReasons.BadCertificate))
                .Detail.Should().Contain("no client certificate");
        }

        // Malformed relay addresses.
        using (var raw = new HttpClient(CemAgent.CreateHandler(gateway.Trust, b.Certificate)) { BaseAddress = new Uri(gateway.Info.BaseUrl) })
        {
            foreach (var (path, says) in new[] { ("/relay/ns1.corp/tcm/agent/policy", "is not host:port"), ("/relay/ns1.corp:99999/x", "1..65535"), ("/tcm/agent/policy", "relays only /relay/"), ("/relay/bad_host!:443/", "is not a DNS name") })
            {
                (await RefusalAsync(await raw.GetAsync(path), HttpStatusCode.BadRequest, CloseReasons.MalformedRelayRequest)).Detail.Should().Contain(says, path);
            }
        }

        // The other agent carried on: its channel still answers.
        await channel.SendAsync(new Tcm.Protocol.HttpRequestMessage { Id = 1, Method = "GET", Path = TcmPaths.Policy });
        (await channel.ReceiveAsync<Tcm.Protocol.HttpResponseMessage>(r => r.Id == 1)).Status.Should().Be(200);
        using (var http = a.Through(gateway))
        {
            (await http.GetAsync(TcmPaths.Policy)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        var status = await gateway.GetStatusAsync();
        status.RejectionsByCode[CloseReasons.BackendNotConfigured].Should().Be(2);
        status.RejectionsByCode[CloseReasons.BadCertificate].Should().Be(2);
        status.RejectionsByCode[CloseReasons.MalformedRelayRequest].Should().Be(4);
        var page = await gateway.Admin.GetStringAsync(GatewayPaths.StatusPage);
        page.Should().Contain("Agents connected").And.Contain(CloseReasons.BackendNotConfigured).And.NotContain("http://").And.NotContain("<script");
    }

    [Fact]
    public async Task BackendRefusalBeforeTheUpgrade_ReachesTheAgentUnchanged()
    {
        var ns = await StartServerAsync(tcmEnabled: false);
        var gateway = await StartGatewayAsync([ns]);
        var a = await RegisterAsync(ns, "PC-A");

        var refused = await FluentActions.Awaiting(() => a.OpenChannelAsync(gateway, HttpVersion.Version20)).Should().ThrowAsync<ChannelRefusedException>();

        refused.Which.Status.Should().Be(HttpStatusCode.Forbidden);
        refused.Which.Code.Should().Be(CloseReasons.TcmDisabled);
    }

    [Fact]
    public async Task UnknownCertificate_IsHeld_UntilApproved_AndBlockedAfterwards()
    {
        var ns = await StartServerAsync();
        var gateway = await StartGatewayAsync([ns], o => o.HoldUnknownCertificates = true);
        var a = await RegisterAsync(ns, "PC-A");
        using var stranger = TestCertificates.SelfSignedClient("stranger");
        using var http = a.Through(gateway, certificate: stranger);

        (await RefusalAsync(await http.GetAsync(TcmPaths.Policy), HttpStatusCode.Forbidden, CloseReasons.CertificateHeld)).Detail.Should().Contain("held until an administrator approves it");
        var held = (await gateway.Admin.GetFromJsonAsync(GatewayPaths.Certificates, GatewayJsonContext.Default.CertificateList))!.Held.Single();
        held.Subject.Should().Be("CN=stranger");

        (await gateway.Admin.PostAsync($"{GatewayPaths.Certificates}/{held.Thumbprint}/approve", null)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        // Approved at the gateway: the request reaches the NS, whose own refusal comes back unchanged.
        (await RefusalAsync(await http.GetAsync(TcmPaths.Policy), HttpStatusCode.Unauthorized, CloseReasons.BadCertificate)).Detail.Should().Contain("does not chain");

        (await gateway.Admin.PostAsync($"{GatewayPaths.Certificates}/{held.Thumbprint}/block", null)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await RefusalAsync(await http.GetAsync(TcmPaths.Policy), HttpStatusCode.Forbidden, CloseReasons.CertificateBlocked);
        var status = await gateway.GetStatusAsync();
        (status.CertificatesHeld, status.CertificatesApproved, status.CertificatesBlocked).Should().Be((0, 0, 1));
    }

    [Fact]
    public async Task Http2_OneConnection_CarriesTheNsAndTaskServerChannels()
    {
        var ns = await StartServerAsync();
        var ts = Own(await StubTaskServer.StartAsync(ns));
        var gateway = await StartGatewayAsync([ns], extra: [new GatewayBackendOptions { Name = "ts1", Address = ts.Address, Kind = BackendKind.TaskServer, Identity = "ns1" }]);
        var a = await RegisterAsync(ns, "PC-A");
        var connections = new StrongBox<int>();
        using var invoker = new HttpMessageInvoker(CemAgent.CreateHandler(gateway.Trust, a.Certificate, connections));

        var (nsChannel, welcome) = await a.ConnectAsync(gateway, HttpVersion.Version20, invoker: invoker);
        await using var _ = nsChannel;
        var tsChannel = await a.OpenChannelAsync(gateway, HttpVersion.Version20, invoker, backend: ts.Address, path: StubTaskServer.ChannelPath);
        await using var __ = tsChannel;

        welcome.AgentId.Should().Be(a.Id);
        var hello = await ReceiveTextAsync(tsChannel.WebSocket);
        hello.Should().Be($"via={GatewayHost.Name};forwarded={a.Certificate.Subject};client=CN={GatewayHost.Name}, OU=gateway;protocol=HTTP/2");
        await tsChannel.WebSocket.SendAsync(Encoding.UTF8.GetBytes("ping over h2"), WebSocketMessageType.Text, true, CancellationToken.None);
        (await ReceiveTextAsync(tsChannel.WebSocket)).Should().Be("ping over h2");
        connections.Value.Should().Be(1, "both channels are streams of one HTTP/2 connection");
        var status = await gateway.GetStatusAsync();
        status.TunnelsOpen.Should().Be(2);
        status.Backends.Single(s => s.Name == "ts1").TunnelsOpen.Should().Be(1);

        // A close from the backend reaches the agent with its status and description.
        await tsChannel.WebSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "agent done", CancellationToken.None);
        var (_, closeStatus, description) = await tsChannel.ReceiveOrCloseAsync();
        (closeStatus, description).Should().Be((WebSocketCloseStatus.NormalClosure, "bye"));
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task IdentityHeadersSentByAnAgent_AreDropped_AndChannelsGoUpstreamOverHttp2(string httpVersion)
    {
        var version = Version.Parse(httpVersion);
        var ns = await StartServerAsync();
        var ts = Own(await StubTaskServer.StartAsync(ns));
        var gateway = await StartGatewayAsync([ns], extra: [new GatewayBackendOptions { Name = "ts1", Address = ts.Address, Kind = BackendKind.TaskServer, Identity = "ns1" }]);
        var a = await RegisterAsync(ns, "PC-A");
        var b = await RegisterAsync(ns, "PC-B");
        using var invoker = new HttpMessageInvoker(new ImpersonatingHandler(CemAgent.CreateHandler(gateway.Trust, a.Certificate), b.Certificate));

        // HTTP: the NS identifies the agent by the certificate the gateway forwards, not by the one the agent claims.
        using var request = new HttpRequestMessage(HttpMethod.Get, GatewayPaths.RelayBase(gateway.Info.HostAndPort, a.Backend) + TcmPaths.Policy)
        {
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.PolicyDocument))!.AgentId.Should().Be(a.Id);

        // WebSocket: one identity reaches the backend, and the upstream is an HTTP/2 stream whatever the agent spoke.
        var channel = await a.OpenChannelAsync(gateway, version, invoker, backend: ts.Address, path: StubTaskServer.ChannelPath);
        await using var _ = channel;
        (await ReceiveTextAsync(channel.WebSocket)).Should().Be($"via={GatewayHost.Name};forwarded={a.Certificate.Subject};client=CN={GatewayHost.Name}, OU=gateway;protocol=HTTP/2");
    }

    [Fact]
    public async Task IdleTunnel_OutlivesTheRequestTimeout_AndEndsAfterTheTunnelIdleTimeout()
    {
        var requestTimeout = TimeSpan.FromMilliseconds(300);
        var idleTimeout = TimeSpan.FromSeconds(4);
        var ns = await StartServerAsync();
        var ts = Own(await StubTaskServer.StartAsync(ns));
        var gateway = await StartGatewayAsync([ns], o => (o.BackendResponseTimeout, o.TunnelIdleTimeout) = (requestTimeout, idleTimeout),
            [new GatewayBackendOptions { Name = "ts1", Address = ts.Address, Kind = BackendKind.TaskServer, Identity = "ns1" }]);
        var a = await RegisterAsync(ns, "PC-A");
        var channel = await a.OpenChannelAsync(gateway, HttpVersion.Version20, backend: ts.Address, path: StubTaskServer.ChannelPath);
        await using var _ = channel;
        await ReceiveTextAsync(channel.WebSocket);

        // why: what is shown is that nothing happens for a while, so time has to pass: four request timeouts of silence.
        await Task.Delay(requestTimeout * 4);
        await channel.WebSocket.SendAsync("still here"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        (await ReceiveTextAsync(channel.WebSocket)).Should().Be("still here");
        var quiet = System.Diagnostics.Stopwatch.StartNew();

        var ended = await EndOfAsync(channel.WebSocket);

        ended.Should().BeTrue("a tunnel silent for longer than the idle timeout is closed");
        quiet.Elapsed.Should().BeGreaterThan(idleTimeout - TimeSpan.FromSeconds(1));
        await Eventually.WaitAsync(gateway.GetStatusAsync, s => s.TunnelsOpen == 0, Deadline, "the tunnel counted closed");
        // why: the tunnel is counted closed before the forwarder's result is counted as an error.
        var scraped = await Eventually.WaitAsync(ct => PrometheusScrape.ScrapeAsync(gateway.Admin, ct), m => m.Sum("tcm_gateway_relay_errors_total") > 0, Deadline, "the relay error counted");
        scraped.Sum("tcm_gateway_relay_errors_total", "kind=\"tunnel-idle\"").Should().Be(1, "YARP's activity timeout is counted as the relay error it is");
    }

    [Fact]
    public async Task AnnouncedKeepAlive_ABackendThatNeverAnswersTheOpening_IsAGatewayTimeout_AfterTwoRelayedIntervalsAndTheAgents()
    {
        var ns = await StartServerAsync();
        var ts = Own(await StubTaskServer.StartAsync(ns));
        var gateway = await StartGatewayAsync([ns], o => (o.TunnelIdleTimeout, o.RelayedKeepAliveInterval) = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)),
            [new GatewayBackendOptions { Name = "ts1", Address = ts.Address, Kind = BackendKind.TaskServer, Identity = "ns1" }]);
        var a = await RegisterAsync(ns, "PC-A");
        var waited = System.Diagnostics.Stopwatch.StartNew();

        // why: such a tunnel has no activity timeout of YARP's; the gateway's own deadline (2 x 1 s relayed + 1 s the agent's) ends the wait.
        var refused = await FluentActions.Awaiting(() => a.OpenChannelAsync(gateway, HttpVersion.Version20, backend: ts.Address, path: StubTaskServer.SilentPath,
            configure: new ChannelKeepAlive(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20)).ApplyTo).WaitAsync(Deadline)).Should().ThrowAsync<ChannelRefusedException>();

        refused.Which.Status.Should().Be(HttpStatusCode.GatewayTimeout);
        refused.Which.Code.Should().Be(CloseReasons.BackendUnavailable);
        waited.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(2.5));
        await Eventually.WaitAsync(gateway.GetStatusAsync, s => s.TunnelsOpen == 0, Deadline, "no tunnel left open");
    }

    [Theory]
    [InlineData("1.1", 0)]
    [InlineData("2.0", 0)]
    [InlineData("2.0", 2000)]
    public async Task AnnouncedKeepAlive_TheGatewayAnswersThePings_TheNsHearsOnePerRelayedInterval_AndASilentAgentsChannelEndsAtTheNs(string httpVersion, int stallMs)
    {
        var version = Version.Parse(httpVersion);
        var relayed = TimeSpan.FromSeconds(6);
        var ns = await StartServerAsync();
        var gateway = await StartGatewayAsync([ns], o => o.RelayedKeepAliveInterval = relayed);
        var pinging = await RegisterAsync(ns, "PC-A");
        var silent = await RegisterAsync(ns, "PC-B");
        var link = new StallingLink(gateway.Trust, pinging.Certificate);
        using var invoker = link.CreateInvoker();
        // why: a client WebSocket pings 1 s after the last frame it received, on a quarter-second beat: 1.25 s apart and its pong's
        // round trip more. It announces 3 s, an interval its pings keep with room, as an agent's do: the gateway ends its tunnel after
        // 6 s without a ping. Announcing the 1 s it pings at left 0.75 s of room to the gateway's 2 s, and a loaded machine's stall of
        // a second ended the live agent's tunnel as silent.
        var (pingingChannel, _) = await pinging.ConnectAsync(gateway, version, invoker: invoker, configure: o =>
        {
            new ChannelKeepAlive(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(20)).AnnounceTo(o);
            (o.KeepAliveInterval, o.KeepAliveTimeout) = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
        });
        await using var _1 = pingingChannel;
        // why: a client WebSocket reads its pongs only while a receive is pending, and sends no new ping while one is unanswered.
        var response = pingingChannel.ReceiveAsync<Tcm.Protocol.HttpResponseMessage>(r => r.Id == 1, TimeSpan.FromSeconds(60));
        // why: announces a 1 s keep-alive and never pings: a dead agent whose connection stays open.
        var (silentChannel, _) = await silent.ConnectAsync(gateway, version, configure: o => o.SetRequestHeader(ProtocolConstants.KeepAliveHeader, "1"));
        await using var _2 = silentChannel;
        var quiet = System.Diagnostics.Stopwatch.StartNew();

        (await EndOfAsync(silentChannel.WebSocket)).Should().BeTrue("the gateway ends a tunnel whose agent sent nothing for two of its intervals");
        quiet.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2) + TunnelWatch.ShortestTick + TimeSpan.FromSeconds(2));
        await Eventually.WaitAsync(ct => PrometheusScrape.ScrapeAsync(ns.Admin, ct), m => m.Sum("tcm_ns_connections_live", "route=\"gateway\"") == 1, Deadline,
            "the NS to close the silent agent's channel when its tunnel ends, and keep the pinging one");
        if (stallMs > 0)
        {
            // why: what the loaded machine did to the test once: the pinging agent's next ping leaves late (it came 2.3 s after the one before).
            link.StallNextWrite(TimeSpan.FromMilliseconds(stallMs));
        }

        // The NS closes a channel silent for two announced intervals (12 s here): three forwarded pings are 18 s and more.
        var scraped = await Eventually.WaitAsync(ct => PrometheusScrape.ScrapeAsync(gateway.Admin, ct),
            m => m.Sum("tcm_gateway_keepalive_total", "outcome=\"forwarded\"") >= 3 || m.Sum("tcm_gateway_keepalive_total", "outcome=\"timed-out\"") > 1,
            TimeSpan.FromSeconds(30), "three of the pinging agent's pings forwarded");
        scraped.Sum("tcm_gateway_keepalive_total", "outcome=\"timed-out\"").Should().Be(1, "the gateway ends the silent agent's tunnel, not the pinging one's");
        link.Stalled.Should().Be(stallMs > 0 ? 1 : 0);
        await pingingChannel.SendAsync(new Tcm.Protocol.HttpRequestMessage { Id = 1, Method = "GET", Path = TcmPaths.Policy });
        (await response).Status.Should().Be(200, "the NS, hearing one ping per relayed interval, keeps the channel");
        scraped.Sum("tcm_gateway_keepalive_total", "outcome=\"answered\"").Should().BeGreaterThanOrEqualTo(4, "the pings between are answered by the gateway");
        (await PrometheusScrape.ScrapeAsync(ns.Admin)).Sum("tcm_ns_connections_live", "route=\"gateway\"").Should().Be(1);
    }

    [Fact]
    public async Task AnnouncedKeepAlive_AnAgentPingingJustUnderTheRelayedInterval_KeepsItsChannelAtTheNs_WhenAPingLeavesLateByLessThanItsInterval()
    {
        // why: the edge scaled down: 6 s against a relayed 7 s (as 299 s against the default 300 s). The gateway forwards every second
        // ping (12 s apart, where the NS was told 7 s and closes after 14 s) and answers the others; the agent's pings are the real
        // agent's (one tick, ChannelPings), written to a stream that can hold one of them back.
        var ns = await StartServerAsync();
        var gateway = await StartGatewayAsync([ns], o => o.RelayedKeepAliveInterval = TimeSpan.FromSeconds(7));
        var agent = await RegisterAsync(ns, "PC-A");
        var keepAlive = new ChannelKeepAlive(TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(30));
        using var pings = new Tcm.Agent.Connection.ChannelPings(TimeProvider.System);
        StallingStream? stalling = null;
        using var link = new HttpMessageInvoker(CemAgent.CreateHandler(gateway.Trust, agent.Certificate));
        using var invoker = new HttpMessageInvoker(new Tcm.Agent.Connection.UpgradeCapture(link, keepAlive, upgraded => pings.Add(stalling = new StallingStream(upgraded), keepAlive)));
        var (channel, _) = await agent.ConnectAsync(gateway, HttpVersion.Version20, invoker: invoker);
        await using var _1 = channel;
        // why: the WebSocket reads the pongs only while a receive is pending.
        var pending = ResponseOrCloseAsync(channel, id: 1);

        // :: The third ping (18 s) is answered by the gateway; the fourth (24 s) is the next the NS is to hear. It leaves 4 s late:
        // 10 s after the agent's last ping, less than the two intervals (12 s) the gateway and a direct NS give the agent.
        var before = await Eventually.WaitAsync(ct => PrometheusScrape.ScrapeAsync(gateway.Admin, ct), m => m.Sum("tcm_gateway_keepalive_total") >= 3, Deadline, "three pings handled");
        before.Sum("tcm_gateway_keepalive_total", "outcome=\"forwarded\"").Should().Be(1, "the second ping was forwarded, the first and third answered");
        stalling!.StallNextWrite(TimeSpan.FromSeconds(4));

        await Eventually.WaitAsync(ct => PrometheusScrape.ScrapeAsync(gateway.Admin, ct),
            m => m.Sum("tcm_gateway_keepalive_total", "outcome=\"forwarded\"") >= 2 || pending.IsCompleted, Deadline, "the late ping forwarded, or the channel closed");
        if (pending.IsCompleted)
        {
            (await pending).Closed.Should().BeNull("the NS must keep a channel whose agent pings within its interval");
        }

        stalling.Stalled.Should().Be(1);
        await channel.SendAsync(new Tcm.Protocol.HttpRequestMessage { Id = 1, Method = "GET", Path = TcmPaths.Policy });
        (await pending).Response!.Status.Should().Be(200);
        (await PrometheusScrape.ScrapeAsync(ns.Admin)).Sum("tcm_ns_connections_live", "route=\"gateway\"").Should().Be(1);
    }

    [Fact]
    public async Task RelayedKeepAliveOff_EveryPingReachesTheNs_AndTheAgentsAnnouncementIsPassedOn()
    {
        var ns = await StartServerAsync();
        var gateway = await StartGatewayAsync([ns], o => o.RelayedKeepAliveInterval = TimeSpan.Zero);
        var silent = await RegisterAsync(ns, "PC-B");
        var (silentChannel, _) = await silent.ConnectAsync(gateway, HttpVersion.Version20, configure: o => o.SetRequestHeader(ProtocolConstants.KeepAliveHeader, "1"));
        await using var _ = silentChannel;

        // why: with the gateway out of the keep-alive, the NS itself closes the silent channel, as it would a direct one.
        var (_, status, description) = await silentChannel.WaitForCloseAsync();
        status.Should().Be(WebSocketCloseStatus.PolicyViolation);
        description.Should().StartWith(CloseReasons.KeepAliveTimeout + ":");
        (await PrometheusScrape.ScrapeAsync(gateway.Admin)).Sum("tcm_gateway_keepalive_total").Should().Be(0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AgentKeepAlivePing_IsOffByDefault_AndAConfiguredOneReachesKestrel(bool configured)
    {
        var ns = await StartServerAsync();
        var gateway = await StartGatewayAsync([ns], configured
            ? o => (o.Http2KeepAlivePingDelay, o.Http2KeepAlivePingTimeout) = (TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(7))
            : null);

        var http2 = gateway.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>>().Value.Limits.Http2;

        http2.KeepAlivePingDelay.Should().Be(configured ? TimeSpan.FromMinutes(5) : TimeSpan.MaxValue);
        http2.KeepAlivePingTimeout.Should().Be(configured ? TimeSpan.FromSeconds(7) : TimeSpan.FromSeconds(20));
    }

    private Task<NotificationServerHost> StartServerAsync(bool tcmEnabled = true) => StartNotificationServerAsync(tcmEnabled);

    private async Task<GatewayHost> StartGatewayAsync(IReadOnlyList<NotificationServerHost> servers, Action<GatewayOptions>? configure = null, IEnumerable<GatewayBackendOptions>? extra = null) =>
        Own(await GatewayHost.StartAsync(Output, servers, extra, configure));

    private async Task<CemAgent> RegisterAsync(NotificationServerHost ns, string name) => Own(await CemAgent.RegisterAsync(ns, name));

    /// <summary>Reconnects (as an agent's back-off would) until a welcome arrives or the deadline passes.</summary>
    private async Task<(TestChannel, WelcomeMessage)> ReconnectAsync(CemAgent agent, GatewayHost gateway)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await agent.ConnectAsync(gateway, HttpVersion.Version20);
            }
            catch (Exception ex) when (ex is ChannelRefusedException or HttpRequestException or WebSocketException or InvalidOperationException && clock.Elapsed < Deadline)
            {
                Output.WriteLine($"reconnect: {ex.Message}");
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Reads until the channel ends (close frame or abort); returns the first message that is not a push, or null.</summary>
    private static async Task<(Message?, WebSocketCloseStatus?, string?)> ReceiveUntilEndAsync(TestChannel channel)
    {
        try
        {
            while (true)
            {
                var (message, status, description) = await channel.ReceiveOrCloseAsync(Deadline);
                if (message is null)
                {
                    return (null, status, description);
                }
            }
        }
        catch (WebSocketException)
        {
            return (null, null, null);
        }
    }

    private static async Task<ErrorBody> RefusalAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        using (response)
        {
            response.StatusCode.Should().Be(status);
            response.Headers.GetValues("X-Tcm-Refusal").Should().Equal(code);
            var body = (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!;
            body.Code.Should().Be(code);
            return body;
        }
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(Deadline);
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    /// <summary>Reads until the response with <paramref name="id"/> arrives (skipping other messages), or the channel ends and why.</summary>
    private static async Task<(Tcm.Protocol.HttpResponseMessage? Response, string? Closed)> ResponseOrCloseAsync(TestChannel channel, long id)
    {
        try
        {
            while (true)
            {
                var (message, status, description) = await channel.ReceiveOrCloseAsync(TimeSpan.FromSeconds(90));
                if (message is null)
                {
                    return (null, $"{status} {description}");
                }

                if (message is Tcm.Protocol.HttpResponseMessage response && response.Id == id)
                {
                    return (response, null);
                }
            }
        }
        catch (WebSocketException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>Whether the socket ends (a close frame, or the stream cut) within the deadline.</summary>
    private static async Task<bool> EndOfAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(Deadline);
        try
        {
            return (await socket.ReceiveAsync(buffer, timeout.Token)).MessageType == WebSocketMessageType.Close;
        }
        catch (WebSocketException)
        {
            return true;
        }
    }

    /// <summary>An agent that claims another agent's certificate and a gateway's name in the gateway's identity headers.</summary>
    private sealed class ImpersonatingHandler(HttpMessageHandler inner, System.Security.Cryptography.X509Certificates.X509Certificate2 claimed) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation(SiteServerPaths.ForwardedAgentCertificateHeader, Convert.ToBase64String(claimed.RawData));
            request.Headers.TryAddWithoutValidation(SiteServerPaths.ViaHeader, "a-gateway-it-is-not");
            return base.SendAsync(request, cancellationToken);
        }
    }
}
