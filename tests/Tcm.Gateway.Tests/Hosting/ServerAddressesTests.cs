using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Tcm.Hosting;

namespace Tcm.Gateway.Tests.Hosting;

public sealed class ServerAddressesTests
{
    [Fact]
    public void BoundPort_IsTakenFromTheServer_WhenPortZeroWasAsked()
    {
        var addresses = new ServerAddresses(new FakeServer("https://127.0.0.1:50123"), new TestOptions { Port = 0, PublicHostName = "ns.example" }, "Test Server");

        addresses.Port.Should().Be(50123);
        addresses.BaseUrl.Should().Be("https://127.0.0.1:50123");
        addresses.PublicHostPort.Should().Be("ns.example:50123");
        addresses.PublicBaseUrl.Should().Be("https://ns.example:50123");
    }

    [Theory]
    [InlineData("*", "https://[::]:4443", "https://localhost:4443")]
    [InlineData("localhost", "https://localhost:4443", "https://localhost:4443")]
    [InlineData("::1", "https://[::1]:4443", "https://[::1]:4443")]
    [InlineData("10.1.2.3", "https://10.1.2.3:4443", "https://10.1.2.3:4443")]
    public void BaseUrl_NamesTheListenAddress_OrLocalhostForEveryAddress(string listen, string bound, string expected) =>
        new ServerAddresses(new FakeServer(bound), new TestOptions { ListenAddress = listen, Port = 4443 }, "Test Server").BaseUrl.Should().Be(expected);

    [Fact]
    public void BeforeStart_ThePortIsTheConfiguredOne_OrTheQuestionIsRefused()
    {
        new ServerAddresses(new FakeServer(), new TestOptions { Port = 4726 }, "Task Server").Port.Should().Be(4726);

        var unknown = () => new ServerAddresses(new FakeServer(), new TestOptions { Port = 0 }, "Task Server").Port;

        unknown.Should().Throw<InvalidOperationException>().WithMessage("The Task Server has not started yet*");
    }

    private sealed class TestOptions() : TcmServerOptions("data/test", 1234);

    private sealed class FakeServer : IServer
    {
        public FakeServer(params string[] addresses)
        {
            var feature = new ServerAddressesFeature();
            foreach (var address in addresses)
            {
                feature.Addresses.Add(address);
            }

            Features.Set<IServerAddressesFeature>(feature);
        }

        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
