using System.Net.Security;
using System.Net.Sockets;
using Tcm.Hosting.Listeners;

namespace Tcm.Functional.Tests;

/// <summary>
/// What a real Notification Server and a real Task Server tell an HTTP/2 client in their SETTINGS frame: how many streams one connection
/// may carry. A CEM gateway opens another connection to its backend each time one is full, so this says how many connections a fleet's
/// channels through the gateway take.
/// </summary>
public sealed class ChannelServerStreamsTests(ITestOutputHelper output) : SystemTest(output)
{
    [Fact]
    public async Task NsAndTaskServer_EachLetOneHttp2ConnectionCarryThousandsOfChannels()
    {
        // SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113, section 6.5.2).
        const ushort MaxConcurrentStreams = 0x3;
        var ns = await StartNotificationServerAsync();
        var ts = Own(await TaskServerHost.StartAsync(Output, ns, "ts-streams"));

        (await SettingAsync(new Uri(ns.BaseUrl).Authority, MaxConcurrentStreams)).Should().Be(TcmListenerSettings.GatewayStreamsPerConnection);
        (await SettingAsync(ts.Info.Address, MaxConcurrentStreams)).Should().Be(TcmListenerSettings.GatewayStreamsPerConnection,
            "a gateway relays its agents' Client Task Agent channels to the Task Server on one connection, as their NS channels (Kestrel's default is 100)");
    }

    /// <summary>Opens an HTTP/2 connection (TLS, ALPN h2) and reads the value of <paramref name="id"/> in the server's first SETTINGS frame; null when it is not there.</summary>
    private static async Task<long?> SettingAsync(string hostAndPort, ushort id)
    {
        var address = new Uri("https://" + hostAndPort);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host == "localhost" ? "127.0.0.1" : address.Host, address.Port);
        await using var tls = new SslStream(tcp.GetStream());

        // why: only the server's HTTP/2 settings are read here; who the server is is not what this test checks.
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = address.Host,
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        });
        tls.NegotiatedApplicationProtocol.Should().Be(SslApplicationProtocol.Http2);
        await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        await tls.WriteAsync(new byte[] { 0, 0, 0, 0x4, 0, 0, 0, 0, 0 });
        await tls.FlushAsync();

        var header = new byte[9];
        while (true)
        {
            await tls.ReadExactlyAsync(header);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var payload = new byte[length];
            await tls.ReadExactlyAsync(payload);
            if (header[3] != 0x4 || (header[4] & 0x1) != 0)
            {
                continue;
            }

            for (var offset = 0; offset + 6 <= length; offset += 6)
            {
                if (System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(offset)) == id)
                {
                    return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(offset + 2));
                }
            }

            return null;
        }
    }
}
