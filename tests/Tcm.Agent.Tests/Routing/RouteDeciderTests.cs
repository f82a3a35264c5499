using FsCheck;
using FsCheck.Fluent;
using Tcm.Agent.Network;
using Tcm.Agent.Routing;

namespace Tcm.Agent.Tests.Routing;

public sealed class RouteDeciderTests
{
    private static readonly NetworkAdapter CheckPoint = new("Global\\AeX{D55B3D95}", "Check Point Virtual Network Adapter For Endpoint VPN Client", true, ["10.1.178.170"]);
    private static readonly NetworkAdapter WiFi = new("Wi-Fi", "Intel(R) Dual Band Wireless-AC 8265", true, ["192.168.1.81"]);

    /// <summary>
    /// Every combination of the two settings, VPN down/up, office/internet and CEM settings valid/missing/invalid.
    /// The Notification Server is reachable directly from the office, or from the internet only over the VPN.
    /// Columns: Prefer CEM, Prefer CEM if VPN, VPN, location, CEM settings, expected mode.
    /// </summary>
    public static TheoryData<bool, bool, string, string, CemAvailability, ConnectionMode> Table => new()
    {
        { false, false, "down", "office", CemAvailability.Valid, ConnectionMode.Direct },
        { false, false, "down", "office", CemAvailability.Missing, ConnectionMode.Direct },
        { false, false, "down", "office", CemAvailability.Invalid, ConnectionMode.Direct },
        { false, false, "down", "internet", CemAvailability.Valid, ConnectionMode.Cem },
        { false, false, "down", "internet", CemAvailability.Missing, ConnectionMode.Offline },
        { false, false, "down", "internet", CemAvailability.Invalid, ConnectionMode.Offline },
        { false, false, "up", "office", CemAvailability.Valid, ConnectionMode.Direct },
        { false, false, "up", "office", CemAvailability.Missing, ConnectionMode.Direct },
        { false, false, "up", "office", CemAvailability.Invalid, ConnectionMode.Direct },
        { false, false, "up", "internet", CemAvailability.Valid, ConnectionMode.Direct },
        { false, false, "up", "internet", CemAvailability.Missing, ConnectionMode.Direct },
        { false, false, "up", "internet", CemAvailability.Invalid, ConnectionMode.Direct },
        { false, true, "down", "office", CemAvailability.Valid, ConnectionMode.Direct },
        { false, true, "down", "office", CemAvailability.Missing, ConnectionMode.Direct },
        { false, true, "down", "office", CemAvailability.Invalid, ConnectionMode.Direct },
        { false, true, "down", "internet", CemAvailability.Valid, ConnectionMode.Cem },
        { false, true, "down", "internet", CemAvailability.Missing, ConnectionMode.Offline },
        { false, true, "down", "internet", CemAvailability.Invalid, ConnectionMode.Offline },
        { false, true, "up", "office", CemAvailability.Valid, ConnectionMode.Cem },
        { false, true, "up", "office", CemAvailability.Missing, ConnectionMode.Direct },
        { false, true, "up", "office", CemAvailability.Invalid, ConnectionMode.Direct },
        { false, true, "up", "internet", CemAvailability.Valid, ConnectionMode.Cem },
        { false, true, "up", "internet", CemAvailability.Missing, ConnectionMode.Direct },
        { false, true, "up", "internet", CemAvailability.Invalid, ConnectionMode.Direct },
        { true, false, "down", "office", CemAvailability.Valid, ConnectionMode.Cem },
        { true, false, "down", "office", CemAvailability.Missing, ConnectionMode.Direct },
        { true, false, "down", "office", CemAvailability.Invalid, ConnectionMode.Direct },
        { true, false, "down", "internet", CemAvailability.Valid, ConnectionMode.Cem },
        { true, false, "down", "internet", CemAvailability.Missing, ConnectionMode.Offline },
        { true, false, "down", "internet", CemAvailability.Invalid, ConnectionMode.Offline },
        { true, false, "up", "office", CemAvailability.Valid, ConnectionMode.Cem },
        { true, false, "up", "office", CemAvailability.Missing, ConnectionMode.Direct },
        { true, false, "up", "office", CemAvailability.Invalid, ConnectionMode.Direct },
        { true, false, "up", "internet", CemAvailability.Valid, ConnectionMode.Cem },
        { true, false, "up", "internet", CemAvailability.Missing, ConnectionMode.Direct },
        { true, false, "up", "internet", CemAvailability.Invalid, ConnectionMode.Direct },
        { true, true, "down", "office", CemAvailability.Valid, ConnectionMode.Cem },
        { true, true, "down", "office", CemAvailability.Missing, ConnectionMode.Direct },
        { true, true, "down", "office", CemAvailability.Invalid, ConnectionMode.Direct },
        { true, true, "down", "internet", CemAvailability.Valid, ConnectionMode.Cem },
        { true, true, "down", "internet", CemAvailability.Missing, ConnectionMode.Offline },
        { true, true, "down", "internet", CemAvailability.Invalid, ConnectionMode.Offline },
        { true, true, "up", "office", CemAvailability.Valid, ConnectionMode.Cem },
        { true, true, "up", "office", CemAvailability.Missing, ConnectionMode.Direct },
        { true, true, "up", "office", CemAvailability.Invalid, ConnectionMode.Direct },
        { true, true, "up", "internet", CemAvailability.Valid, ConnectionMode.Cem },
        { true, true, "up", "internet", CemAvailability.Missing, ConnectionMode.Direct },
        { true, true, "up", "internet", CemAvailability.Invalid, ConnectionMode.Direct },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Decide_FollowsTheDecisionTable(bool preferCem, bool preferCemIfVpn, string vpn, string location, CemAvailability cem, ConnectionMode expected)
    {
        var vpnUp = vpn == "up";
        var inputs = new RouteInputs(preferCem, preferCemIfVpn, cem, vpnUp ? CheckPoint : null, DirectReachable: location == "office" || vpnUp);

        var decision = RouteDecider.Decide(inputs);

        decision.Mode.Should().Be(expected);
        decision.Reason.Split(':')[0].Should().BeEquivalentTo(expected.ToString(), "the reason names the mode first");
    }

    [Fact]
    public void Table_CoversEveryCombination()
    {
        Table.Count().Should().Be(2 * 2 * 2 * 2 * 3);
    }

    // The support article's three steps, for an agent at home with "Prefer CEM ... if VPN" and valid CEM settings.
    [Fact]
    public void Article_VpnUpBeforeStart_UsesCem()
    {
        RouteDecider.Decide(new RouteInputs(false, true, CemAvailability.Valid, CheckPoint, DirectReachable: true)).Mode.Should().Be(ConnectionMode.Cem);
    }

    [Fact]
    public void Article_VpnDown_UsesCem()
    {
        RouteDecider.Decide(new RouteInputs(false, true, CemAvailability.Valid, null, DirectReachable: false)).Mode.Should().Be(ConnectionMode.Cem);
    }

    [Fact]
    public void Article_VpnUpAgain_StaysCem()
    {
        var decision = RouteDecider.Decide(new RouteInputs(false, true, CemAvailability.Valid, CheckPoint, DirectReachable: true));

        decision.Mode.Should().Be(ConnectionMode.Cem);
        decision.Reason.Should().Contain("Check Point Virtual Network Adapter For Endpoint VPN Client");
    }

    [Fact]
    public void PreferCem_WithInvalidCemSettings_StaysDirectAndSaysWhy()
    {
        var decision = RouteDecider.Decide(new RouteInputs(true, false, CemAvailability.Invalid, null, DirectReachable: true) { CemProblem = "the gateway address 'gw' is not host:port" });

        decision.Mode.Should().Be(ConnectionMode.Direct);
        decision.Reason.Should().Contain("'Prefer CEM gateway connection' is set but the CEM settings are invalid").And.Contain("'gw' is not host:port");
    }

    [Fact]
    public void PreferCem_WithoutCemSettings_StaysDirectAndSaysWhy()
    {
        RouteDecider.Decide(new RouteInputs(true, false, CemAvailability.Missing, null, DirectReachable: true)).Reason.Should().Contain("there are no CEM settings");
    }

    [Theory]
    [InlineData("Check Point Virtual Network Adapter*", true)]
    [InlineData("*virtual network adapter*", true)]
    [InlineData("Global\\AeX*", true)]
    [InlineData("*AnyConnect*", false)]
    [InlineData("", false)]
    public void FindActiveVpnAdapter_MatchesNameOrDescriptionWithWildcards(string pattern, bool found)
    {
        var adapter = RouteDecider.FindActiveVpnAdapter([WiFi, CheckPoint], [pattern]);

        (adapter is not null).Should().Be(found);
        if (found)
        {
            adapter.Should().Be(CheckPoint);
        }
    }

    [Fact]
    public void FindActiveVpnAdapter_IgnoresAdaptersThatAreDown()
    {
        RouteDecider.FindActiveVpnAdapter([WiFi, CheckPoint with { IsUp = false }], ["*VPN*"]).Should().BeNull();
    }

    [Theory]
    [InlineData(null, CemAvailability.Missing)]
    [InlineData("gw.example:8443", CemAvailability.Valid)]
    [InlineData("[::1]:8443", CemAvailability.Valid)]
    [InlineData("gw.example", CemAvailability.Invalid)]
    [InlineData("gw.example:0", CemAvailability.Invalid)]
    [InlineData("gw.example:99999", CemAvailability.Invalid)]
    [InlineData("", CemAvailability.Invalid)]
    public void Assess_ValidatesTheGatewayAddress(string? address, CemAvailability expected)
    {
        var settings = address is null ? null : new CemSettings { GatewayAddress = address };

        RouteDecider.Assess(settings).Availability.Should().Be(expected);
    }

    [Fact]
    public void Assess_SwitchedOffOrBadCa_IsInvalidWithAReason()
    {
        RouteDecider.Assess(new CemSettings { GatewayAddress = "gw:1", Enabled = false }).Problem.Should().Contain("switched off");
        RouteDecider.Assess(new CemSettings { GatewayAddress = "gw:1", GatewayCaCertificatePem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----" })
            .Availability.Should().Be(CemAvailability.Invalid);
    }

    [Fact]
    public void Properties_DirectOnlyWhenReachable_CemOnlyWhenValid_OfflineOnlyWhenNeither()
    {
        var inputs =
            from preferCem in ArbMap.Default.GeneratorFor<bool>()
            from preferCemIfVpn in ArbMap.Default.GeneratorFor<bool>()
            from vpnUp in ArbMap.Default.GeneratorFor<bool>()
            from reachable in ArbMap.Default.GeneratorFor<bool>()
            from cem in Gen.Elements(CemAvailability.Missing, CemAvailability.Invalid, CemAvailability.Valid)
            select new RouteInputs(preferCem, preferCemIfVpn, cem, vpnUp ? CheckPoint : null, reachable);

        Prop.ForAll(inputs.ToArbitrary(), i =>
        {
            var mode = RouteDecider.Decide(i).Mode;
            return (mode != ConnectionMode.Direct || i.DirectReachable)
                && (mode != ConnectionMode.Cem || i.Cem == CemAvailability.Valid)
                && (mode == ConnectionMode.Offline) == (!i.DirectReachable && i.Cem != CemAvailability.Valid)
                && (!(i.PreferCem && i.Cem == CemAvailability.Valid) || mode == ConnectionMode.Cem);
        }).QuickCheckThrowOnFailure();
    }
}
