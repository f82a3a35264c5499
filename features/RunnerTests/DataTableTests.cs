using FluentAssertions;
using Tcm.Features.Runner;
using Xunit;

namespace Tcm.Features.RunnerTests;

public sealed class DataTableTests
{
    public enum Location
    {
        Office,
        Internet,
    }

    public sealed record AgentRow(string Name, Location Location, bool VpnAdapter, TimeSpan Delay = default);

    public sealed class Settings
    {
        public bool PreferCem { get; set; }

        public int Retries { get; init; }

        public double Loss { get; set; }
    }

    [Fact]
    public void CreateSet_MapsColumnsToConstructorParameters_ByNormalisedName()
    {
        var table = new DataTable(["name", "location", "VPN adapter", "delay"], ["alpha", "office", "yes", "10s"], ["beta", "Internet", "no", "500ms"]);

        table.CreateSet<AgentRow>().Should().Equal(
            new AgentRow("alpha", Location.Office, true, TimeSpan.FromSeconds(10)),
            new AgentRow("beta", Location.Internet, false, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public void CreateSet_UsesDefaultsForMissingOptionalColumns() =>
        new DataTable(["name", "location", "vpn_adapter"], ["a", "office", "false"]).CreateSet<AgentRow>().Single().Delay.Should().Be(TimeSpan.Zero);

    [Fact]
    public void CreateInstance_ReadsAVerticalTable_IntoSettableProperties()
    {
        var table = new DataTable(["field", "value"], ["prefer CEM", "true"], ["retries", "3"], ["loss", "1%"]);

        table.CreateInstance<Settings>().Should().BeEquivalentTo(new Settings { PreferCem = true, Retries = 3, Loss = 0.01 });
    }

    [Fact]
    public void UnknownColumn_FailsNamingIt()
    {
        var map = () => new DataTable(["name", "location", "vpn adapter", "colour"], ["a", "office", "no", "red"]).CreateSet<AgentRow>();

        map.Should().Throw<InvalidOperationException>().WithMessage("*'colour'*AgentRow*");
    }

    [Fact]
    public void Rows_ReadByNameOrPosition_AndTypedGet()
    {
        var table = new DataTable(["Agent Name", "count"], ["alpha", "1,000"]);
        var row = table.Rows.Single();

        row["agent name"].Should().Be("alpha");
        row["AgentName"].Should().Be("alpha");
        row[1].Should().Be("1,000");
        row.Get<int>("count").Should().Be(1000);
        table.Header.Should().Equal("Agent Name", "count");
        table.ToString().Should().Contain("| Agent Name | count |");
        var missing = () => row["nope"];
        missing.Should().Throw<KeyNotFoundException>().WithMessage("*'nope'*Agent Name, count*");
    }
}
