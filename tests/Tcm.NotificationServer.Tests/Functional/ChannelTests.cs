using System.Text;
using Microsoft.Extensions.Logging;

namespace Tcm.NotificationServer.Tests.Functional;

public sealed class ChannelTests
{
    public static TheoryData<string> HttpVersions => new() { "1.1", "2.0" };

    [Fact]
    public async Task Channel_ByDefault_IsRefused403TcmDisabled_AndAcceptedOnceEnabled()
    {
        await using var server = await NotificationServerHost.StartAsync();
        using var agent = await server.RegisterAgentAsync();

        var refused = await Assert.ThrowsAsync<ChannelRefusedException>(() => agent.OpenAsync());
        refused.Status.Should().Be(HttpStatusCode.Forbidden);
        refused.Code.Should().Be(CloseReasons.TcmDisabled);

        await server.SetTcmEnabledAsync(true);
        var (channel, welcome) = await agent.ConnectAsync();
        await using var _ = channel;
        welcome.AgentId.Should().Be(agent.Id);
        welcome.ProtocolVersion.Should().Be(ProtocolConstants.Version);
        welcome.ConnectionId.Should().MatchRegex("^[0-9a-f]{16}$");
        channel.WebSocket.SubProtocol.Should().Be(ProtocolConstants.SubProtocol);
        var metrics = await server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64);
        metrics["connections.refused.tcm-disabled"].Should().Be(1);
        metrics["connections.live"].Should().Be(1);
    }

    [Theory]
    [MemberData(nameof(HttpVersions))]
    public async Task Channel_OverHttpVersion_WelcomesAndAnswersHttpRequests(string version)
    {
        await using var connected = await ConnectedAgent.StartAsync(Version.Parse(version));
        var (server, agent, channel, welcome) = connected;

        var policy = await channel.RequestAsync(1, "GET", TcmPaths.Policy);
        policy.Status.Should().Be(200);
        policy.Headers!["ETag"].Should().Be($"\"{welcome.PolicyEtag}\"");
        var notModified = await channel.RequestAsync(2, "GET", TcmPaths.Policy, new Dictionary<string, string> { ["if-none-match"] = $"\"{welcome.PolicyEtag}\"" });
        notModified.Status.Should().Be(304);
        var missing = await channel.RequestAsync(3, "GET", "/tcm/agent/nothing-here");
        missing.Status.Should().Be(404);
        missing.Body!.Value.GetProperty("code").GetString().Should().Be("not-found");
        var info = await server.AdminGetAsync($"/agents/{agent.Id}", ProtocolJsonContext.Default.AgentInfo);
        info.Connected.Should().BeTrue();
        info.Transport.Should().Be(TransportKind.Persistent);
    }

    [Fact]
    public async Task Channel_UntargetedAgent_IsRefusedPersistentConnectionNotEnabled()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        var profile = PolicyDefaults.DefaultProfile with { Targets = new Targets { Rules = [new TargetRule("computerName", "SRV-*")] } };
        (await server.Admin.PutAsJsonAsync($"{TcmPaths.Admin}/profiles/default", profile, ProtocolJsonContext.Default.CommunicationProfile)).EnsureSuccessStatusCode();
        using var agent = await server.RegisterAgentAsync("PC-0001");

        agent.Registration.Policy.Communication.PersistentConnection.Should().BeFalse();
        agent.Registration.Policy.Communication.ProfileId.Should().BeNull();
        var refused = await Assert.ThrowsAsync<ChannelRefusedException>(() => agent.OpenAsync());
        refused.Status.Should().Be(HttpStatusCode.Forbidden);
        refused.Code.Should().Be(CloseReasons.NotTargeted);
    }

    [Fact]
    public async Task Channel_WithoutCertificate_Is401_AndForUnknownAgent_Is403()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        var noCertificate = await Assert.ThrowsAsync<ChannelRefusedException>(() => agent.OpenAsync(useCertificate: false));
        noCertificate.Status.Should().Be(HttpStatusCode.Unauthorized);
        noCertificate.Code.Should().Be(CloseReasons.BadCertificate);

        using var unknown = server.CreateUnknownAgent();
        var unknownRefusal = await Assert.ThrowsAsync<ChannelRefusedException>(() => unknown.OpenAsync());
        unknownRefusal.Status.Should().Be(HttpStatusCode.Forbidden);
        unknownRefusal.Code.Should().Be(CloseReasons.UnknownAgent);
    }

    public static TheoryData<string> BadPeers => new()
    {
        "unsupported-version", "not-hello-first", "wrong-agent-id", "binary", "too-large", "malformed", "unknown-kind", "second-hello",
    };

    [Theory]
    [MemberData(nameof(BadPeers))]
    public async Task BadPeer_IsClosedWithTheRightReason_AndAnotherAgentKeepsWorking(string badness)
    {
        await using var server = await NotificationServerHost.StartAsync(configure: options => options.MaxMessageBytes = 8192, tcmEnabled: true);
        using var good = await server.RegisterAgentAsync("PC-GOOD");
        using var bad = await server.RegisterAgentAsync("PC-BAD");
        var (goodChannel, _) = await good.ConnectAsync(HttpVersion.Version20);
        await using var _1 = goodChannel;
        var badChannel = await bad.OpenAsync();
        await using var _2 = badChannel;
        var hello = new HelloMessage { ProtocolVersion = ProtocolConstants.Version, AgentId = bad.Id };

        (WebSocketCloseStatus Status, string Code) expected;
        switch (badness)
        {
            case "unsupported-version":
                await badChannel.SendAsync(hello with { ProtocolVersion = 99 });
                expected = (WebSocketCloseStatus.PolicyViolation, CloseReasons.UnsupportedVersion);
                break;
            case "not-hello-first":
                await badChannel.SendAsync(new AckMessage { UpToSeq = 1 });
                expected = (WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation);
                break;
            case "wrong-agent-id":
                await badChannel.SendAsync(hello with { AgentId = good.Id });
                expected = (WebSocketCloseStatus.PolicyViolation, CloseReasons.BadCertificate);
                break;
            case "second-hello":
                await badChannel.SendAsync(hello);
                await badChannel.ReceiveAsync<WelcomeMessage>();
                await badChannel.SendAsync(hello);
                expected = (WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation);
                break;
            default:
                await badChannel.SendAsync(hello);
                await badChannel.ReceiveAsync<WelcomeMessage>();
                expected = await SendBadAfterHelloAsync(badChannel, badness);
                break;
        }

        var (before, status, description) = await badChannel.WaitForCloseAsync();
        status.Should().Be(expected.Status);
        description.Should().StartWith(expected.Code + ": ");
        Encoding.UTF8.GetByteCount(description!).Should().BeLessThanOrEqualTo(123);
        before.OfType<ErrorMessage>().Should().ContainSingle(e => e.Fatal && e.Code == expected.Code);

        var stillWorking = await goodChannel.RequestAsync(7, "GET", TcmPaths.Policy);
        stillWorking.Status.Should().Be(200);
        await Eventually.WaitAsync(() => server.Info is not null && LiveConnections(server) == 1, "the bad channel is gone");
        server.Logs.Entries.Should().NotContain(e => e.Level >= LogLevel.Error, "a bad peer is the peer's problem, not the server's");
    }

    private static long LiveConnections(NotificationServerHost server) =>
        server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64).GetAwaiter().GetResult()["connections.live"];

    private static async Task<(WebSocketCloseStatus, string)> SendBadAfterHelloAsync(TestChannel channel, string badness)
    {
        switch (badness)
        {
            case "binary":
                await channel.SendRawAsync([1, 2, 3], WebSocketMessageType.Binary);
                return (WebSocketCloseStatus.InvalidMessageType, CloseReasons.BinaryNotSupported);
            case "too-large":
                // why: frames of 4 KiB each, never ending the message: the server must stop at the limit, not wait for the end.
                var frame = Encoding.UTF8.GetBytes(new string(' ', 4096));
                try
                {
                    for (var i = 0; i < 16; i++)
                    {
                        await channel.WebSocket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
                    }
                }
                catch (WebSocketException)
                {
                }

                return (WebSocketCloseStatus.MessageTooBig, CloseReasons.TooLarge);
            case "malformed":
                await channel.SendRawAsync(Encoding.UTF8.GetBytes("{\"kind\": \"ack\", "));
                return (WebSocketCloseStatus.InvalidPayloadData, CloseReasons.Malformed);
            case "unknown-kind":
                await channel.SendRawAsync(Encoding.UTF8.GetBytes("{\"kind\": \"teleport\"}"));
                return (WebSocketCloseStatus.PolicyViolation, CloseReasons.UnknownKind);
            default:
                throw new ArgumentOutOfRangeException(nameof(badness), badness, null);
        }
    }

    [Fact]
    public async Task Channel_WithoutHello_IsClosedHelloTimeout()
    {
        await using var server = await NotificationServerHost.StartAsync(configure: options => options.HelloTimeout = TimeSpan.FromMilliseconds(300), tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        await using var channel = await agent.OpenAsync();

        await channel.ShouldBeClosedAsync(WebSocketCloseStatus.PolicyViolation, CloseReasons.HelloTimeout);
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task AnAgentThatAnnouncedItsKeepAlive_IsNotPinged_AndItsChannelIsClosedAfterTwoSilentIntervals_WhilePingingAndOlderAgentsStay(string httpVersion)
    {
        // why: the server pings every 300 ms: were it to ping the silent agent, that agent's pongs (it is reading) would keep it open.
        await using var server = await NotificationServerHost.StartAsync(configure: options => options.KeepAliveInterval = TimeSpan.FromMilliseconds(300), tcmEnabled: true);
        using var silentAgent = await server.RegisterAgentAsync();
        using var pingingAgent = await server.RegisterAgentAsync();
        using var olderAgent = await server.RegisterAgentAsync();
        var version = Version.Parse(httpVersion);

        var (silent, _) = await silentAgent.ConnectAsync(version, configure: o => o.SetRequestHeader(ProtocolConstants.KeepAliveHeader, "1"));
        await using var _1 = silent;
        var (pinging, _) = await pingingAgent.ConnectAsync(version, configure: new Tcm.Channels.Framing.ChannelKeepAlive(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20)).ApplyTo);
        await using var _2 = pinging;
        // why: a client WebSocket reads its pongs only while a receive is pending, and sends no new ping while one is unanswered;
        // without a receive pending from the start it pings once and falls silent (CI saw the pinging agent closed after 2.4 s).
        var pingingResponse = pinging.ReceiveAsync<Tcm.Protocol.HttpResponseMessage>(r => r.Id == 1, TimeSpan.FromSeconds(60));
        var (older, _) = await olderAgent.ConnectAsync(version);
        await using var _3 = older;

        await silent.ShouldBeClosedAsync(WebSocketCloseStatus.PolicyViolation, CloseReasons.KeepAliveTimeout);
        await pinging.SendAsync(new Tcm.Protocol.HttpRequestMessage { Id = 1, Method = "GET", Path = TcmPaths.Policy });
        (await pingingResponse).Status.Should().Be(200, "an agent that pings is heard, however little else it says");
        (await older.RequestAsync(1, "GET", TcmPaths.Policy)).Status.Should().Be(200, "an agent that announced nothing is pinged by the server, never closed for silence");
    }

    [Fact]
    public async Task NewerConnection_ReplacesTheOlder()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var agent = await server.RegisterAgentAsync();
        var (older, _) = await agent.ConnectAsync();
        await using var _1 = older;
        var (newer, _) = await agent.ConnectAsync(HttpVersion.Version20);
        await using var _2 = newer;

        await older.ShouldBeClosedAsync(WebSocketCloseStatus.NormalClosure, CloseReasons.Replaced);
        (await newer.RequestAsync(1, "GET", TcmPaths.Policy)).Status.Should().Be(200);
    }

    [Fact]
    public async Task Terminate_SendsTerminate_ThenClosesTerminatedByAdministrator()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var (server, agent, channel, _) = connected;

        var response = await server.Admin.PostAsync($"{TcmPaths.Admin}/agents/{agent.Id}/terminate?reconnectAfterSeconds=5", null);
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);

        var before = await channel.ShouldBeClosedAsync(WebSocketCloseStatus.NormalClosure, CloseReasons.Terminated);
        before.OfType<TerminateMessage>().Should().ContainSingle().Which.ReconnectAfterSeconds.Should().Be(5);
    }

    [Fact]
    public async Task NetworkStatus_OfAConnectedAgent_IsAskedLiveOverTheChannel()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var (server, agent, channel, _) = connected;

        var asking = server.AdminGetAsync($"/agents/{agent.Id}/network-status", ProtocolJsonContext.Default.NetworkStatus);
        var request = await channel.ReceiveAsync<Tcm.Protocol.HttpRequestMessage>();
        request.Path.Should().Be("/tcm/agent/status");
        var live = new NetworkStatus { ServerAddress = "live:4443", Mode = ConnectionMode.Direct, Transport = TransportKind.Persistent };
        await channel.SendAsync(new Tcm.Protocol.HttpResponseMessage
        {
            Id = request.Id,
            Status = 200,
            Body = System.Text.Json.JsonSerializer.SerializeToElement(live, ProtocolJsonContext.Default.NetworkStatus),
        });

        (await asking).Should().BeEquivalentTo(live);
    }
}
