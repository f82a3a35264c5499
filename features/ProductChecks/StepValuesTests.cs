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
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("1.5 s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("3 minutes", 180_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("00:00:10", 10_000)]
    public void Durations_read_with_their_unit(string text, int milliseconds) =>
        StepValues.Duration(text).Should().Be(TimeSpan.FromMilliseconds(milliseconds));

    [Fact]
    public void A_duration_without_a_unit_is_refused_naming_the_forms() =>
        FluentActions.Invoking(() => StepValues.Duration("soon")).Should().Throw<FormatException>().WithMessage("*500ms, 10s*");

    [Theory]
    [InlineData("99%", 0.99)]
    [InlineData("0.1 %", 0.001)]
    [InlineData("12.5%", 0.125)]
    public void Percentages_are_fractions(string text, double fraction) =>
        StepValues.Percentage(text).Should().BeApproximately(fraction, 1e-12);

    [Theory]
    [InlineData("on", true)]
    [InlineData("Off", false)]
    [InlineData("yes", true)]
    [InlineData("no", false)]
    [InlineData("enabled", true)]
    [InlineData("disabled", false)]
    public void Switches_read_in_the_scenarios_words(string text, bool on) => StepValues.Switch(text).Should().Be(on);

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
