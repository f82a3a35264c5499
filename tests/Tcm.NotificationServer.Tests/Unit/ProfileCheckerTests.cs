using Tcm.NotificationServer.Admin;

namespace Tcm.NotificationServer.Tests.Unit;

public sealed class ProfileCheckerTests
{
    private static readonly SiteServerInfo Gateway = new()
    {
        Id = "g1", Name = "gw1", Kind = SiteServerKind.Gateway, Registered = true,
        Address = "gw.example.com:4726", HostNames = ["gw.example.com", "203.0.113.7"],
    };

    private static CommunicationProfile WithGateway(string address, bool enabled = true) =>
        new() { Id = "internet", Name = "Internet", Cem = new CemSettings { GatewayAddress = address, Enabled = enabled } };

    [Fact]
    public void A_gateway_address_a_registered_gateway_listens_on_has_no_problem()
    {
        ProfileChecker.Check(WithGateway("gw.example.com:4726"), [Gateway], "ns.corp", 4443).Should().BeEmpty();
        ProfileChecker.Check(WithGateway("GW.EXAMPLE.COM:4726"), [Gateway], "ns.corp", 4443).Should().BeEmpty("host names compare without case");
        ProfileChecker.Check(WithGateway("203.0.113.7:4726"), [Gateway], "ns.corp", 4443).Should().BeEmpty("any name on the gateway's certificate counts");
    }

    [Fact]
    public void A_port_the_gateway_does_not_listen_on_names_the_port_the_gateway_has()
    {
        var problem = ProfileChecker.Check(WithGateway("gw.example.com:443"), [Gateway], "ns.corp", 4443).Should().ContainSingle().Subject;
        problem.Field.Should().Be("cem.gatewayAddress");
        problem.Detail.Should().Contain("port 443").And.Contain("gateway 'gw1' listens on gw.example.com:4726");
    }

    [Fact]
    public void A_host_no_gateway_is_named_lists_the_registered_gateways()
    {
        var problem = ProfileChecker.Check(WithGateway("gateway.other.org:4726"), [Gateway], "ns.corp", 4443).Should().ContainSingle().Subject;
        problem.Detail.Should().Contain("'gateway.other.org' is not a name of any registered gateway").And.Contain("gw.example.com:4726");
    }

    [Fact]
    public void No_registered_gateway_says_so_and_how_to_register_one()
    {
        var unregistered = Gateway with { Registered = false };
        var taskServer = Gateway with { Kind = SiteServerKind.TaskServer };
        var problem = ProfileChecker.Check(WithGateway("gw.example.com:4726"), [unregistered, taskServer], "ns.corp", 4443).Should().ContainSingle().Subject;
        problem.Detail.Should().Contain("no CEM gateway has registered").And.Contain("POST /tcm/admin/site-servers");
    }

    [Fact]
    public void A_disabled_or_absent_cem_section_is_not_checked()
    {
        ProfileChecker.Check(WithGateway("nowhere.example:1", enabled: false), [], "ns.corp", 4443).Should().BeEmpty();
        ProfileChecker.Check(new CommunicationProfile { Name = "Office" }, [], "ns.corp", 4443).Should().BeEmpty();
    }

    [Fact]
    public void A_server_host_naming_this_server_on_another_port_is_a_problem_and_other_servers_are_not()
    {
        var profile = new CommunicationProfile { Name = "Office", ServerHosts = ["ns.corp:4443", "NS.CORP:443", "ns2.corp:443"] };
        var problem = ProfileChecker.Check(profile, [], "ns.corp", 4443).Should().ContainSingle().Subject;
        problem.Field.Should().Be("serverHosts[1]");
        problem.Detail.Should().Contain("ns.corp:4443");
    }

    [Fact]
    public void A_header_value_keeps_only_printable_ascii()
    {
        ProfileChecker.HeaderValue(new ProfileProblem("cem.gatewayAddress", "'bücher.example' is not\na name"))
            .Should().Be("cem.gatewayAddress: 'b?cher.example' is not?a name");
    }
}
