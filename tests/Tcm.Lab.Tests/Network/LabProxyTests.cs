using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Lab.Network;

namespace Tcm.Lab.Tests.Network;

/// <summary>The lab's CONNECT proxy on real loopback sockets: a tunnel with the right credentials, 407 otherwise, 502 to a stopped server.</summary>
public sealed class LabProxyTests : IAsyncLifetime
{
    private static readonly NetworkCredential s_credentials = new("agent", "pw");
    private readonly TcpListener _echo = new(IPAddress.Loopback, 0);
    private readonly NetworkTopology _topology = new();
    private RegisteredEndpoint _server = null!;
    private LabProxy _proxy = null!;

    public Task InitializeAsync()
    {
        _echo.Start();
        _ = EchoAsync();
        _server = _topology.Register("ns.tcm.lab", 4443, EndpointClass.Corporate, (IPEndPoint)_echo.LocalEndpoint);
        _proxy = LabProxy.Start(new TopologyNetwork(_topology), s_credentials, NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        _echo.Stop();
    }

    [Fact]
    public async Task RightCredentials_OpenATunnelThatCarriesBytesBothWays()
    {
        using var client = await ConnectAsync(s_credentials);

        (await ReadAnswerAsync(client)).Should().StartWith("HTTP/1.1 200");
        await client.WriteAsync(Encoding.ASCII.GetBytes("hello"));
        var echoed = new byte[5];
        await client.ReadExactlyAsync(echoed);
        Encoding.ASCII.GetString(echoed).Should().Be("hello");
        _proxy.TunnelsOpened.Should().Be(1);
    }

    [Fact]
    public async Task WrongOrRefusedCredentials_Are407()
    {
        using (var wrong = await ConnectAsync(new NetworkCredential("agent", "nope")))
        {
            (await ReadAnswerAsync(wrong)).Should().StartWith("HTTP/1.1 407");
        }

        _proxy.RefuseCredentials = true;
        using (var refused = await ConnectAsync(s_credentials))
        {
            (await ReadAnswerAsync(refused)).Should().StartWith("HTTP/1.1 407");
        }

        _proxy.CredentialRefusals.Should().Be(2);
        _proxy.TunnelsOpened.Should().Be(0);
    }

    [Fact]
    public async Task AStoppedServer_Is502()
    {
        _server.IsUp = false;
        using var client = await ConnectAsync(s_credentials);

        (await ReadAnswerAsync(client)).Should().StartWith("HTTP/1.1 502");
        _proxy.UpstreamFailures.Should().Be(1);
    }

    private async Task<NetworkStream> ConnectAsync(NetworkCredential credentials)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _proxy.Port));
        var stream = new NetworkStream(socket, ownsSocket: true);
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.UserName}:{credentials.Password}"));
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT ns.tcm.lab:4443 HTTP/1.1\r\nHost: ns.tcm.lab:4443\r\nProxy-Authorization: Basic {basic}\r\n\r\n"));
        return stream;
    }

    private static async Task<string> ReadAnswerAsync(Stream stream)
    {
        var answer = new StringBuilder();
        var one = new byte[1];
        while (!answer.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one) == 1)
        {
            answer.Append((char)one[0]);
        }

        return answer.ToString();
    }

    private async Task EchoAsync()
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _echo.AcceptSocketAsync();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using var stream = new NetworkStream(accepted, ownsSocket: true);
                await stream.CopyToAsync(stream);
            });
        }
    }
}
