using System.Net;
using System.Net.WebSockets;
using Tcm.LoadTests.Baseline.Client;
using Tcm.LoadTests.Baseline.Relay;
using Tcm.LoadTests.Baseline.Server;
using Tcm.LoadTests.Variants;
using Tcm.Testing;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// The baseline's bare relay with real parts: the bare server and the relay on 127.0.0.1 with TLS, bare agents' WebSockets over
/// HTTP/2 and HTTP/1.1 through it. It carries the bytes both ways, and when either side goes, the other is ended too.
/// </summary>
public sealed class BareRelayTests : IAsyncLifetime
{
    private readonly BaselineCertificates _certificates = BaselineCertificates.Create();
    private BaselineServer? _server;
    private BareRelay? _relay;

    private BaselineServer Server => _server!;

    private BareRelay Relay => _relay!;

    public async Task InitializeAsync()
    {
        _server = new BaselineServer(_certificates.Server, 0);
        await _server.StartAsync(CancellationToken.None);
        _relay = new BareRelay(_certificates.Server, 0, _server.BaseAddress, BaselineCertificates.Validator(_certificates.Ca));
        await _relay.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Server.DisposeAsync();
        _certificates.Dispose();
    }

    [Theory]
    [InlineData("h2")]
    [InlineData("h1")]
    public async Task EveryPushReachesTheAgentsAndEveryEchoTheServer_ThroughOneTunnelEach(string version)
    {
        var protocol = version == "h2" ? ChannelProtocol.Http2 : ChannelProtocol.Http1;
        var messages = new MessageCount();
        var agents = new List<BaselineAgentChannel>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                agents.Add(await ConnectAsync(i, protocol, messages));
            }

            await Eventually.WaitAsync(() => Server.Snapshot(false).WebSockets == 4 && Relay.OpenTunnels == 4, "four tunnels, each a WebSocket at the server");
            var first = await Server.FanoutAsync(256, TimeSpan.FromSeconds(15), group: 0, CancellationToken.None);
            var second = await Server.FanoutAsync(4096, TimeSpan.FromSeconds(15), group: 0, CancellationToken.None);

            first.Echoed.Should().Be(4, "each push went through the relay to its agent, and each echo back to the server");
            second.Echoed.Should().Be(4, "a message longer than one read is carried whole too");
            await Eventually.WaitAsync(() => messages.Value, n => n == 16, Eventually.DefaultDeadline, "the agents to count each push received and each echo sent");
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AnAgentThatGoes_EndsItsWebSocketAtTheServer()
    {
        var agent = await ConnectAsync(0, ChannelProtocol.Http2, messages: null);
        await Eventually.WaitAsync(() => Server.Snapshot(false).WebSockets == 1, "the agent's WebSocket at the server");

        await agent.DisposeAsync();

        await Eventually.WaitAsync(() => Server.Snapshot(false).WebSockets == 0 && Relay.OpenTunnels == 0, "the server's side and the tunnel to end with the agent's");
    }

    [Fact]
    public async Task AServerThatGoes_EndsTheAgentsWebSocket()
    {
        var agent = await ConnectAsync(0, ChannelProtocol.Http2, messages: null);
        try
        {
            await Eventually.WaitAsync(() => Relay.OpenTunnels == 1, "the tunnel");

            await Server.StopAsync();

            await agent.Closed.WaitAsync(Eventually.DefaultDeadline);
            await Eventually.WaitAsync(() => Relay.OpenTunnels == 0, "the tunnel to end with the server's side");
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task ACloseHandshake_PassesBothWays()
    {
        using var invoker = Http2Invoker();
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var deadline = new CancellationTokenSource(Eventually.DefaultDeadline);
        await socket.ConnectAsync(new Uri($"wss://{Relay.BaseAddress.Authority}/ws?ch=ns&g=0"), invoker, deadline.Token);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", deadline.Token);

        socket.State.Should().Be(WebSocketState.Closed, "the server's answer to the close came back through the relay");
        socket.CloseStatus.Should().Be(WebSocketCloseStatus.NormalClosure);
        await Eventually.WaitAsync(() => Server.Snapshot(false).WebSockets == 0 && Relay.OpenTunnels == 0, "both sides to end after the handshake");
    }

    [Fact]
    public async Task AServerThatCannotBeReached_RefusesTheAgent_AndOpensNoTunnel()
    {
        await Server.StopAsync();
        using var invoker = Http2Invoker();
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var deadline = new CancellationTokenSource(Eventually.DefaultDeadline);

        var connect = () => socket.ConnectAsync(new Uri($"wss://{Relay.BaseAddress.Authority}/ws?ch=ns&g=0"), invoker, deadline.Token);

        (await connect.Should().ThrowAsync<WebSocketException>()).Which.Message.Should().Contain("502");
        Relay.OpenTunnels.Should().Be(0);
    }

    private Task<BaselineAgentChannel> ConnectAsync(int index, ChannelProtocol protocol, MessageCount? messages) =>
        BaselineAgentChannel.ConnectAsync(Relay.BaseAddress, protocol, 1, index, 0, BaselineCertificates.Validator(_certificates.Ca), NullPushObserver.Instance, messages, CancellationToken.None);

    private HttpMessageInvoker Http2Invoker() =>
        new(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = BaselineCertificates.Validator(_certificates.Ca) } });
}
