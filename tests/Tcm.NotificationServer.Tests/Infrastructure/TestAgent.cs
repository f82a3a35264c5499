using System.Security.Cryptography.X509Certificates;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>A registered agent: its certificate and an HTTP client that presents it.</summary>
internal sealed class TestAgent : IDisposable
{
    private readonly NotificationServerHost _server;

    public TestAgent(NotificationServerHost server, RegisteredAgent registered)
    {
        _server = server;
        Registration = registered.Registration;
        Certificate = registered.Certificate;
        Http = server.CreateClient(Certificate);
    }

    public string Id => Registration.AgentId;

    public RegisterResponse Registration { get; }

    public X509Certificate2 Certificate { get; }

    public HttpClient Http { get; }

    /// <summary>Opens the channel without sending hello; the caller sees refusals through the thrown <see cref="ChannelRefusedException"/>.</summary>
    public Task<TestChannel> OpenAsync(
        Version? httpVersion = null, X509Certificate2? certificate = null, bool useCertificate = true, Action<System.Net.WebSockets.ClientWebSocketOptions>? configure = null) =>
        TestChannel.OpenAsync(
            _server.ChannelUri,
            new HttpMessageInvoker(_server.CreateHandler(useCertificate ? certificate ?? Certificate : null)),
            httpVersion ?? HttpVersion.Version11,
            ownsInvoker: true,
            configure: configure);

    /// <summary>
    /// Opens the channel, says hello (reporting <paramref name="route"/>, and accepting held result acknowledgements when
    /// <paramref name="acceptsHeldResultAcks"/>) and returns the welcome.
    /// </summary>
    public async Task<(TestChannel Channel, WelcomeMessage Welcome)> ConnectAsync(
        Version? httpVersion = null,
        long lastReceivedSeq = 0,
        Action<System.Net.WebSockets.ClientWebSocketOptions>? configure = null,
        string route = "direct",
        bool acceptsHeldResultAcks = false)
    {
        var channel = await OpenAsync(httpVersion, configure: configure);
        await channel.SendAsync(new HelloMessage
        {
            ProtocolVersion = ProtocolConstants.Version,
            AgentId = Id,
            LastReceivedSeq = lastReceivedSeq,
            Route = route,
            AcceptsHeldResultAcks = acceptsHeldResultAcks,
        });
        var welcome = await channel.ReceiveAsync<WelcomeMessage>();
        return (channel, welcome);
    }

    public void Dispose()
    {
        Http.Dispose();
        Certificate.Dispose();
    }
}
