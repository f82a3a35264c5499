using System.Net;
using System.Net.Sockets;
using System.Text;
using Tcm.Gateway;
using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Tests;

public sealed class BackendDialerTests
{
    [Fact]
    public async Task ConnectTo_DialsTheOtherAddress_ForTheNamedBackend()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serve = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[4096];
            _ = await stream.ReadAsync(buffer);
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"));
        });
        var callback = BackendDialer.Create([new GatewayBackendOptions { Name = "ns", Address = "ns.tcm.lab:4443", ConnectTo = $"127.0.0.1:{port}" }]);
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = callback });

        var body = await http.GetStringAsync("http://ns.tcm.lab:4443/").WaitAsync(TimeSpan.FromSeconds(10));

        body.Should().Be("ok");
        await serve.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void WithoutConnectTo_NoCallbackIsInstalled()
    {
        BackendDialer.Create([new GatewayBackendOptions { Name = "ns", Address = "ns1:4443" }]).Should().BeNull();
    }
}
