using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Tcm.Protocol;

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

    /// <summary>Opens the channel without sending hello; the caller sees refusals through the thrown exception.</summary>
    public async Task<TestChannel> OpenAsync(Version? httpVersion = null, X509Certificate2? certificate = null, bool useCertificate = true)
    {
        var webSocket = new ClientWebSocket();
        webSocket.Options.AddSubProtocol(ProtocolConstants.SubProtocol);
        webSocket.Options.CollectHttpResponseDetails = true;
        webSocket.Options.HttpVersion = httpVersion ?? HttpVersion.Version11;
        webSocket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        webSocket.Options.KeepAliveInterval = TimeSpan.Zero;
        var handler = _server.CreateHandler(useCertificate ? certificate ?? Certificate : null);
        var invoker = new HttpMessageInvoker(handler);
        using var timeout = new CancellationTokenSource(Eventually.DefaultDeadline);
        try
        {
            await webSocket.ConnectAsync(_server.ChannelUri, invoker, timeout.Token);
        }
        catch (WebSocketException)
        {
            var refused = new TestChannel(webSocket, invoker);
            throw new ChannelRefusedException(refused.RefusalStatus, refused.RefusalCode);
        }

        return new TestChannel(webSocket, invoker);
    }

    /// <summary>Opens the channel, says hello and returns the welcome.</summary>
    public async Task<(TestChannel Channel, WelcomeMessage Welcome)> ConnectAsync(Version? httpVersion = null, long lastReceivedSeq = 0)
    {
        var channel = await OpenAsync(httpVersion);
        await channel.SendAsync(new HelloMessage { ProtocolVersion = ProtocolConstants.Version, AgentId = Id, LastReceivedSeq = lastReceivedSeq, Route = "direct" });
        var welcome = await channel.ReceiveAsync<WelcomeMessage>();
        return (channel, welcome);
    }

    public void Dispose()
    {
        Http.Dispose();
        Certificate.Dispose();
    }
}

internal sealed class ChannelRefusedException(HttpStatusCode status, string? code)
    : Exception($"channel refused: {(int)status} {code}")
{
    public HttpStatusCode Status { get; } = status;

    public string? Code { get; } = code;
}
