using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
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
    public async Task Destinations_WhenTheFirstNodeDoesNotAnswer_TheNextOneDoes_AndIsTriedFirstFromThen()
    {
        var down = DeadPort();
        await using var nodeB = await StartNodeAsync("node-b");
        var callback = BackendDialer.Create([new GatewayBackendOptions
        {
            Name = "ns", Address = "ns.tcm.lab:4443", Destinations = [$"127.0.0.1:{down}", $"127.0.0.1:{nodeB.Port}"],
        }]);
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = callback, PooledConnectionLifetime = TimeSpan.Zero });

        (await http.GetStringAsync("http://ns.tcm.lab:4443/").WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("node-b");

        // Node A comes back on its port: the gateway stays with node B, which answered last.
        await using var nodeA = await StartNodeAsync("node-a", down);
        (await http.GetStringAsync("http://ns.tcm.lab:4443/").WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("node-b");
    }

    [Fact]
    public async Task Destinations_WhenTheNodeInUseStops_TheOtherOneTakesTheNextConnection()
    {
        await using var nodeA = await StartNodeAsync("node-a");
        var nodeB = await StartNodeAsync("node-b");
        var callback = BackendDialer.Create([new GatewayBackendOptions
        {
            Name = "ns", Address = "ns.tcm.lab:4443", Destinations = [$"127.0.0.1:{nodeB.Port}", $"127.0.0.1:{nodeA.Port}"],
        }]);
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = callback, PooledConnectionLifetime = TimeSpan.Zero });
        (await http.GetStringAsync("http://ns.tcm.lab:4443/").WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("node-b");

        await nodeB.DisposeAsync();

        (await http.GetStringAsync("http://ns.tcm.lab:4443/").WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("node-a");
    }

    [Fact]
    public async Task Destinations_WhenNoNodeAnswers_TheConnectionFails()
    {
        var callback = BackendDialer.Create([new GatewayBackendOptions
        {
            Name = "ns", Address = "ns.tcm.lab:4443", Destinations = [$"127.0.0.1:{DeadPort()}", $"127.0.0.1:{DeadPort()}"],
        }]);
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = callback });

        await FluentActions.Awaiting(() => http.GetStringAsync("http://ns.tcm.lab:4443/").WaitAsync(TimeSpan.FromSeconds(10)))
            .Should().ThrowAsync<HttpRequestException>();
    }

    [Fact]
    public void WithoutConnectTo_NoCallbackIsInstalled()
    {
        BackendDialer.Create([new GatewayBackendOptions { Name = "ns", Address = "ns1:4443" }]).Should().BeNull();
    }

    /// <summary>A loopback port nothing listens on (taken and given back).</summary>
    private static int DeadPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A real Kestrel server on 127.0.0.1 that answers every request with its <paramref name="name"/>.</summary>
    private static async Task<Node> StartNodeAsync(string name, int port = 0)
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapGet("/", () => name);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses;
        var bound = new Uri(addresses.First()).Port;
        return new Node(app, bound);
    }

    private sealed record Node(Microsoft.AspNetCore.Builder.WebApplication App, int Port) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
