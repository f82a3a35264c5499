namespace Tcm.Agent.Tests;

public sealed class TaskServerSelectorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
    private static readonly Dictionary<string, DateTimeOffset> NoneExcluded = [];

    private static TaskServerPolicy Policy(TaskServerSelection selection) => new()
    {
        Selection = selection,
        Servers =
        [
            new TaskServerEntry { Id = "ts1", Address = "ts1:4726", RegisteredAgents = 30, MaxAgents = 100 },
            new TaskServerEntry { Id = "ts2", Address = "ts2:4726", RegisteredAgents = 10, MaxAgents = 20 },
            new TaskServerEntry { Id = "ts3", Address = "ts3:4726", RegisteredAgents = 20, MaxAgents = 5000 },
        ],
    };

    [Fact]
    public void FewestComputers_OrdersByRegisteredAgents() =>
        TaskServerSelector.Order(Policy(TaskServerSelection.FewestComputers), null, NoneExcluded, Now).Select(s => s.Id).Should().Equal("ts2", "ts3", "ts1");

    [Fact]
    public void AvailableCapacity_OrdersByFreeRegistrations() =>
        TaskServerSelector.Order(Policy(TaskServerSelection.AvailableCapacity), null, NoneExcluded, Now).Select(s => s.Id).Should().Equal("ts3", "ts1", "ts2");

    [Fact]
    public void OrderedList_KeepsTheAdminsOrder() =>
        TaskServerSelector.Order(Policy(TaskServerSelection.OrderedList), null, NoneExcluded, Now).Select(s => s.Id).Should().Equal("ts1", "ts2", "ts3");

    [Fact]
    public void FastestConnection_OrdersByTheAgentsMeasuredConnectTime_WhateverTheCounts()
    {
        var times = new Dictionary<string, TimeSpan> { ["ts1"] = TimeSpan.FromMilliseconds(4), ["ts2"] = TimeSpan.FromMilliseconds(250), ["ts3"] = TimeSpan.FromMilliseconds(40) };

        TaskServerSelector.Order(Policy(TaskServerSelection.FastestConnection), null, NoneExcluded, Now, times).Select(s => s.Id).Should().Equal("ts1", "ts3", "ts2");
    }

    [Fact]
    public void FastestConnection_ServersWithoutAMeasurementComeLast_ByFewestComputers()
    {
        // ts2 did not answer within the probe timeout; nothing was measured for ts3 (the route went through the gateway).
        var times = new Dictionary<string, TimeSpan> { ["ts1"] = TimeSpan.FromMilliseconds(90) };

        TaskServerSelector.Order(Policy(TaskServerSelection.FastestConnection), null, NoneExcluded, Now, times).Select(s => s.Id).Should().Equal("ts1", "ts2", "ts3");
        TaskServerSelector.Order(Policy(TaskServerSelection.FastestConnection), null, NoneExcluded, Now).Select(s => s.Id).Should().Equal(["ts2", "ts3", "ts1"],
            "with nothing measured, the fastest connection is fewest computers");
    }

    [Fact]
    public void FastestConnection_ServerInUse_StaysFirst_AndAFailedOneGoesLast()
    {
        var times = new Dictionary<string, TimeSpan> { ["ts1"] = TimeSpan.FromMilliseconds(4), ["ts2"] = TimeSpan.FromMilliseconds(250), ["ts3"] = TimeSpan.FromMilliseconds(40) };
        var excluded = new Dictionary<string, DateTimeOffset> { ["ts1"] = Now.AddMinutes(1) };

        TaskServerSelector.Order(Policy(TaskServerSelection.FastestConnection), "ts2", NoneExcluded, Now, times)[0].Id.Should().Be("ts2");
        TaskServerSelector.Order(Policy(TaskServerSelection.FastestConnection), null, excluded, Now, times).Select(s => s.Id).Should().Equal("ts3", "ts2", "ts1");
    }

    [Fact]
    public void ServerInUse_StaysFirst_WhileItWorks() =>
        TaskServerSelector.Order(Policy(TaskServerSelection.FewestComputers), "ts1", NoneExcluded, Now)[0].Id.Should().Be("ts1");

    [Fact]
    public void RefusedOrFailedServer_GoesLast_UntilItsCooldownEnds()
    {
        var excluded = new Dictionary<string, DateTimeOffset> { ["ts2"] = Now.AddMinutes(1) };

        TaskServerSelector.Order(Policy(TaskServerSelection.FewestComputers), "ts2", excluded, Now).Select(s => s.Id).Should().Equal("ts3", "ts1", "ts2");
        TaskServerSelector.Order(Policy(TaskServerSelection.FewestComputers), null, excluded, Now.AddMinutes(2))[0].Id.Should().Be("ts2");
    }

    [Fact]
    public void NoTaskServers_NothingToPick() =>
        TaskServerSelector.Order(null, null, NoneExcluded, Now).Should().BeEmpty();
}
