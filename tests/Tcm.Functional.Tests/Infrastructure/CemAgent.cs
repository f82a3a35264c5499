using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Runtime.CompilerServices;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// An agent as a CEM client sees it: registered with a Notification Server over HTTP (its own key, a CSR, a real certificate),
/// then talking through a gateway with raw <see cref="HttpClient"/> and <see cref="ClientWebSocket"/>.
/// </summary>
internal sealed class CemAgent(RegisteredAgent registered, string backend) : IDisposable
{
    public string Id => registered.Id;

    public X509Certificate2 Certificate => registered.Certificate;

    /// <summary><c>host:port</c> of the NS it registered with.</summary>
    public string Backend { get; } = backend;

    public static async Task<CemAgent> RegisterAsync(NotificationServerHost ns, string computerName) =>
        new(await ns.RegisterAsync(computerName), new Uri(ns.Info.PublicUrl).Authority);

    /// <summary>A handler that trusts only <paramref name="trust"/> and presents <paramref name="clientCertificate"/>; counts its TCP connections.</summary>
    public static SocketsHttpHandler CreateHandler(X509Certificate2 trust, X509Certificate2? clientCertificate, StrongBox<int>? connections = null)
    {
        var handler = TestCertificates.CreateHandler(trust, clientCertificate);
        if (connections is not null)
        {
            handler.ConnectCallback = async (context, ct) =>
            {
                Interlocked.Increment(ref connections.Value);
                return await TcpDial.ConnectAsync(context.DnsEndPoint, ct);
            };
        }

        return handler;
    }

    /// <summary>An HTTP client through <paramref name="gateway"/> to <paramref name="backend"/> (default: its own NS): paths are appended to the relay base.</summary>
    public CemHttp Through(GatewayHost gateway, string? backend = null, X509Certificate2? certificate = null, Version? version = null) =>
        new(new HttpClient(CreateHandler(gateway.Trust, certificate ?? Certificate))
        {
            DefaultRequestVersion = version ?? HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        }, GatewayPaths.RelayBase(gateway.Info.HostAndPort, backend ?? Backend).ToString());

    /// <summary>Opens the channel through the gateway (no hello yet); a refusal throws <see cref="ChannelRefusedException"/> with the status and code.</summary>
    public Task<TestChannel> OpenChannelAsync(GatewayHost gateway, Version version, HttpMessageInvoker? invoker = null, string? backend = null, string path = TcmPaths.Channel,
        Action<ClientWebSocketOptions>? configure = null)
    {
        var uri = new Uri(GatewayPaths.RelayBase(gateway.Info.HostAndPort, backend ?? Backend).ToString().Replace("https://", "wss://", StringComparison.Ordinal) + path);
        return TestChannel.OpenAsync(uri, invoker ?? new HttpMessageInvoker(CreateHandler(gateway.Trust, Certificate)), version, ownsInvoker: invoker is null, configure: configure);
    }

    /// <summary>Opens the channel, says hello (route cem) and returns the welcome; <paramref name="configure"/> sets the socket's keep-alive or headers.</summary>
    public async Task<(TestChannel Channel, WelcomeMessage Welcome)> ConnectAsync(GatewayHost gateway, Version version, long lastReceivedSeq = 0, HttpMessageInvoker? invoker = null,
        Action<ClientWebSocketOptions>? configure = null)
    {
        var channel = await OpenChannelAsync(gateway, version, invoker, configure: configure);
        await channel.SendAsync(new HelloMessage { ProtocolVersion = ProtocolConstants.Version, AgentId = Id, LastReceivedSeq = lastReceivedSeq, Route = "cem" });
        return (channel, await channel.ReceiveAsync<WelcomeMessage>());
    }

    public void Dispose() => Certificate.Dispose();
}

/// <summary>An HTTP client whose paths go after a relay base.</summary>
internal sealed class CemHttp(HttpClient client, string relayBase) : IDisposable
{
    public HttpClient Client { get; } = client;

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery) => Client.GetAsync(relayBase + pathAndQuery);

    public Task<HttpResponseMessage> PostJsonAsync(string pathAndQuery, string json) =>
        Client.PostAsync(relayBase + pathAndQuery, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    public void Dispose() => Client.Dispose();
}
