using FluentAssertions;
using Tcm.Features.Drivers;
using Tcm.Features.Steps;
using Tcm.Lab.Fleet;
using Tcm.Lab.Network;
using Xunit;

namespace Tcm.Features.ProductChecks;

/// <summary>The step argument transformations read the product's values as QA writes them.</summary>
public sealed class StepValuesTests
{
    /// <summary>What QA writes and what the step gets: durations with their unit, percentages as fractions, switches in the scenarios' words.</summary>
    public static TheoryData<string, object> WrittenValues() => new()
    {
        { "500ms", TimeSpan.FromMilliseconds(500) },
        { "10s", TimeSpan.FromSeconds(10) },
        { "1.5 s", TimeSpan.FromMilliseconds(1_500) },
        { "2m", TimeSpan.FromMinutes(2) },
        { "3 minutes", TimeSpan.FromMinutes(3) },
        { "1h", TimeSpan.FromHours(1) },
        { "1m30s", TimeSpan.FromSeconds(90) },
        { "00:00:10", TimeSpan.FromSeconds(10) },
        { "99%", 0.99 },
        { "0.1 %", 0.001 },
        { "12.5%", 0.125 },
        { "on", true },
        { "Off", false },
        { "yes", true },
        { "no", false },
        { "enabled", true },
        { "disabled", false },
    };

    [Theory]
    [MemberData(nameof(WrittenValues))]
    public void Values_read_as_QA_writes_them(string text, object expected)
    {
        switch (expected)
        {
            case TimeSpan duration:
                StepValues.Duration(text).Should().Be(duration);
                break;
            case double fraction:
                StepValues.Percentage(text).Should().BeApproximately(fraction, 1e-12);
                break;
            default:
                StepValues.Switch(text).Should().Be((bool)expected);
                break;
        }
    }

    [Fact]
    public void A_duration_without_a_unit_is_refused_naming_the_forms() =>
        FluentActions.Invoking(() => StepValues.Duration("soon")).Should().Throw<FormatException>().WithMessage("*500ms, 10s*");

    [Fact]
    public void Enum_values_ignore_case_spaces_and_dashes()
    {
        StepValues.Route("offline and retrying with back-off").Should().Be(RouteOutcome.OfflineAndRetryingWithBackOff);
        StepValues.Route("connected through the gateway").Should().Be(RouteOutcome.ConnectedThroughTheGateway);
        StepValues.Reason("its persistent connection was terminated").Should().Be(FallbackReason.ItsPersistentConnectionWasTerminated);
        StepValues.Location("internet").Should().Be(AgentLocation.Internet);
        StepValues.Cem("invalid").Should().Be(CemValidity.Invalid);
    }

    [Fact]
    public void Agent_options_read_each_part_and_default_the_rest()
    {
        StepValues.Agent("").Should().BeEquivalentTo(Tail("", false, CemValidity.Missing, "features", "London"));
        StepValues.Agent(" with its \"checkpoint\" VPN up and valid CEM settings, in group \"sales\", at site \"Paris\"")
            .Should().BeEquivalentTo(Tail("checkpoint", true, CemValidity.Valid, "sales", "Paris"));
        StepValues.Agent(" with no VPN client, at site \"Frankfurt\"").Should().BeEquivalentTo(Tail("", false, CemValidity.Missing, "features", "Frankfurt"));
        FluentActions.Invoking(() => StepValues.Agent(" with a VPN")).Should().Throw<FormatException>();
    }

    private static AgentDefinition Tail(string vpnAdapter, bool vpnUp, CemValidity cem, string group, string site) =>
        new() { Name = "", VpnAdapter = vpnAdapter, VpnUp = vpnUp, Cem = cem, Group = group, Site = site };

    [Fact]
    public void An_unknown_enum_value_is_refused_naming_the_members() =>
        FluentActions.Invoking(() => StepValues.Route("sideways")).Should().Throw<FormatException>().WithMessage("*Direct, ConnectedThroughTheGateway*");
}
