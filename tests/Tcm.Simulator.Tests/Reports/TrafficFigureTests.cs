using Tcm.Agent.Network;
using Tcm.Simulator.Reports;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Reports;

/// <summary>The figures traffic expectations read: by destination, purpose, group and request kind; and how reconnects spread.</summary>
public sealed class TrafficFigureTests
{
    private static readonly TrafficReport s_home = new()
    {
        Rows =
        [
            new TrafficRow("Vpn", "Corporate", "Management", 100, 200, 2, 0),
            new TrafficRow("Vpn", "Corporate", "Download", 1000, 5000, 1, 0),
            new TrafficRow("WiFi", "Public", "TaskServer", 10, 20, 1, 0),
            new TrafficRow("(unreachable)", "Corporate", "Probe", 0, 0, 0, 3),
        ],
        RequestsByKind = new Dictionary<string, long> { ["ns http"] = 4, ["ns hello"] = 2, ["ts hello"] = 1, ["ts task.result"] = 5 },
        AgentHours = 2,
    };

    private static readonly TrafficReport s_run = s_home with { Groups = new Dictionary<string, TrafficReport> { ["home"] = s_home } };

    private static readonly Dictionary<string, (TrafficMetric Metric, TrafficFilter Filter, double Expected)> s_figures = new()
    {
        ["plain bytes leave downloads out"] = (TrafficMetric.Bytes, TrafficFilter.None, 330),
        ["to corporate"] = (TrafficMetric.Bytes, new TrafficFilter { Destination = EndpointClass.Corporate }, 300),
        ["to public"] = (TrafficMetric.Bytes, new TrafficFilter { Destination = EndpointClass.Public }, 30),
        ["for a purpose counts it, downloads too"] = (TrafficMetric.Bytes, new TrafficFilter { Purpose = TrafficPurpose.Download }, 6000),
        ["for task-server"] = (TrafficMetric.Bytes, new TrafficFilter { Purpose = TrafficPurpose.TaskServer }, 30),
        ["VPN bytes by purpose"] = (TrafficMetric.VpnBytes, new TrafficFilter { Purpose = TrafficPurpose.Management }, 300),
        ["package bytes to public"] = (TrafficMetric.PackageBytes, new TrafficFilter { Destination = EndpointClass.Public }, 0),
        ["of a group"] = (TrafficMetric.Bytes, new TrafficFilter { Group = "home", Destination = EndpointClass.Corporate }, 300),
        ["of a group without traffic"] = (TrafficMetric.Bytes, new TrafficFilter { Group = "office" }, 0),
        ["unreachable to corporate"] = (TrafficMetric.UnreachableConnects, new TrafficFilter { Destination = EndpointClass.Corporate }, 3),
        ["every request"] = (TrafficMetric.Requests, TrafficFilter.None, 12),
        ["hello on both connections"] = (TrafficMetric.Requests, new TrafficFilter { Kind = "hello" }, 3),
        ["results over the Task Server channel of a group"] = (TrafficMetric.Requests, new TrafficFilter { Group = "home", Connection = "ts", Kind = "task.result" }, 5),
        ["HTTP per agent-hour"] = (TrafficMetric.RequestsPerAgentHour, new TrafficFilter { Kind = "http" }, 2),
        ["corporate bytes per agent-hour"] = (TrafficMetric.BytesPerAgentHour, new TrafficFilter { Destination = EndpointClass.Corporate }, 150),
    };

    public static TheoryData<string> Figures() => new(s_figures.Keys);

    [Theory]
    [MemberData(nameof(Figures))]
    public void Figure_CountsThePartTheFilterSelects(string what)
    {
        var (metric, filter, expected) = s_figures[what];

        s_run.Figure(metric, filter).Should().Be(expected, what);
    }

    [Fact]
    public void Minus_TakesRequestsByKindAndGroupsApartToo()
    {
        var earlier = s_run with
        {
            RequestsByKind = new Dictionary<string, long> { ["ns http"] = 3 },
            Groups = new Dictionary<string, TrafficReport> { ["home"] = s_home with { RequestsByKind = new Dictionary<string, long> { ["ts task.result"] = 5 } } },
        };

        var after = s_run.Minus(earlier);

        after.RequestsByKind["ns http"].Should().Be(1);
        after.RequestsByKind["ts task.result"].Should().Be(5);
        after.Figure(TrafficMetric.Requests, new TrafficFilter { Group = "home", Kind = "task.result" }).Should().Be(0);
    }

    [Fact]
    public void ReconnectSpread_CountsEachSecondAndThePercentiles()
    {
        var spread = ReconnectSpread.From("back", 42.5, agents: 6, [0.4, 2.6, 1.2, 1.9, 0.25]);

        spread.Seconds.Should().Equal(0.25, 0.4, 1.2, 1.9, 2.6);
        spread.PerSecond.Should().Equal(2, 2, 1);
        spread.PeakPerSecond.Should().Be(2);
        (spread.Reconnected, spread.Agents, spread.P50, spread.Max).Should().Be((5, 6, 1.2, 2.6));
    }
}
