using Tcm.Agent.Routing;

namespace Tcm.Agent.Tests;

public sealed class RouteResolverTests
{
    private static readonly InstallPackage Package = new() { ServerUrl = "https://setup.example:4443/", RegistrationToken = "t", CaCertificatePem = "x" };

    [Fact]
    public void NoPolicy_GoesDirectToThePackageServer()
    {
        var route = RouteResolver.ResolveRoute(Package, null);

        route.Mode.Should().Be(ConnectionMode.Direct);
        route.HostAndPort.Should().Be("setup.example:4443");
        route.ChannelUri.Should().Be(new Uri("wss://setup.example:4443/tcm/agent/channel"));
        route.Reason.Should().Contain("install package");
    }

    [Fact]
    public void Policy_GoesDirectToItsFirstServerHost()
    {
        var route = RouteResolver.ResolveRoute(Package, TestData.Policy(hosts: ["ns1.example:4443", "ns2.example:4443"]));

        route.HostAndPort.Should().Be("ns1.example:4443");
        route.For(TcmPaths.Policy).Should().Be(new Uri("https://ns1.example:4443/tcm/agent/policy"));
        route.Reason.Should().Contain("profile 'Default'");
    }

    [Fact]
    public void ServerHostNumber_NamesThatHostOfThePolicy_RoundTheList()
    {
        var policy = TestData.Policy(hosts: ["ns1.example:4443", "ns2.example:4443"]);

        RouteResolver.ResolveRoute(Package, policy, RoutePlan.Initial, serverHost: 1).HostAndPort.Should().Be("ns2.example:4443");
        RouteResolver.ResolveRoute(Package, policy, RoutePlan.Initial, serverHost: 2).HostAndPort.Should().Be("ns1.example:4443");
        RouteResolver.ResolveRoute(Package, policy, RoutePlan.Initial, serverHost: int.MinValue).HostAndPort.Should().Be("ns1.example:4443");
        RouteResolver.DirectNotificationServer(Package, policy, 1).Should().Be(("ns2.example", 4443));
        RouteResolver.ResolveRoute(Package, TestData.Policy(), RoutePlan.Initial, serverHost: 3).HostAndPort.Should().Be("setup.example:4443");
    }

    [Fact]
    public void PolicyWithoutHosts_FallsBackToThePackageServer()
    {
        RouteResolver.ResolveRoute(Package, TestData.Policy()).HostAndPort.Should().Be("setup.example:4443");
    }

    [Fact]
    public void PlainHttpProfile_UsesWs()
    {
        var policy = TestData.Policy(hosts: ["127.0.0.1:8080"]);
        policy = policy with { Communication = policy.Communication with { UseHttps = false } };

        RouteResolver.ResolveRoute(Package, policy).ChannelUri.Should().Be(new Uri("ws://127.0.0.1:8080/tcm/agent/channel"));
    }
}
