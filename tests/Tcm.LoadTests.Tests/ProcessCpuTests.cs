using System.Diagnostics;
using Tcm.LoadTests.Harness.Cpu;
using Tcm.LoadTests.Variants;

namespace Tcm.LoadTests.Tests;

public sealed class ProcessCpuTests
{
    [Fact]
    public void ParseStat_AddsUserAndSystemTicks()
    {
        // Fields 14 (utime) and 15 (stime) are 250 and 125 ticks: 3.75 s at 100 ticks a second.
        const string line = "4242 (dotnet) S 1 4242 4242 0 -1 4194560 52811 0 12 0 250 125 0 0 20 0 23 0 1234567 3221225472 40000 18446744073709551615";

        ProcessCpu.ParseStat(line).Should().Be(TimeSpan.FromSeconds(3.75));
    }

    [Fact]
    public void ParseStat_CountsFieldsFromTheLastParenthesis_WhateverTheCommandName()
    {
        const string line = "7 (tcm (ns) 2) R 1 7 7 0 -1 0 0 0 0 0 1000 1 0 0 20 0 1 0 99 0 0";

        ProcessCpu.ParseStat(line).Should().Be(TimeSpan.FromSeconds(10.01));
    }

    [Theory]
    [InlineData("")]
    [InlineData("4242 dotnet S 1 2 3")]
    [InlineData("4242 (dotnet) S 1 2 3")]
    [InlineData("4242 (dotnet) S 1 4242 4242 0 -1 4194560 52811 0 12 0 x 125")]
    public void ParseStat_ReturnsNull_ForWhatIsNotAStatLine(string line) => ProcessCpu.ParseStat(line).Should().BeNull();

    [Fact]
    public void Read_ThisProcess_GrowsWithWork()
    {
        var before = ProcessCpu.Read(Environment.ProcessId);
        var spin = Stopwatch.StartNew();
        var x = 0L;
        while (ProcessCpu.Read(Environment.ProcessId) <= before && spin.Elapsed < TimeSpan.FromSeconds(10))
        {
            x += spin.ElapsedTicks % 7;
        }

        before.Should().NotBeNull();
        ProcessCpu.Read(Environment.ProcessId).Should().BeGreaterThan(before!.Value, $"CPU was spent ({x})");
    }

    [Fact]
    public void Read_AGoneProcess_IsNull() => ProcessCpu.Read(int.MaxValue).Should().BeNull();

    [Fact]
    public void FanoutCost_ReadsEveryServerProcess_ButNotAServerInThisProcess()
    {
        var separate = new ServerSnapshot { ProcessId = 11, Gateway = new ServerSnapshot { ProcessId = 12 }, TaskServer = new ServerSnapshot { ProcessId = 13 } };
        var inProcess = new ServerSnapshot { ProcessId = Environment.ProcessId };

        FanoutCost.Processes(separate).Should().Equal(("server", 11), ("gateway", 12), ("task-server", 13), ("client", Environment.ProcessId));
        FanoutCost.Processes(inProcess).Should().Equal(("client", Environment.ProcessId));
    }

    [Fact]
    public void FanoutCost_ReadsEveryNode_AndPostgres()
    {
        var nodes = new ServerSnapshot { ProcessId = 11, OtherNodes = [21, 22], PostgresProcessId = 30 };
        var one = new ServerSnapshot { ProcessId = 11, PostgresProcessId = 30 };

        FanoutCost.Processes(nodes).Should().Equal(("node1", 11), ("node2", 21), ("node3", 22), ("postgres", 30), ("client", Environment.ProcessId));
        FanoutCost.Processes(one).Should().Equal(("server", 11), ("postgres", 30), ("client", Environment.ProcessId));
    }

    [Fact]
    public void ParentOf_AChild_IsThisProcess_AndItsTreeCountsThisProcess()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            ProcessCpu.ParentOf(child.Id).Should().Be(Environment.ProcessId);
            var own = ProcessCpu.Read(Environment.ProcessId)!.Value;
            ProcessCpu.ReadTree(Environment.ProcessId).Should().BeGreaterThanOrEqualTo(own);
        }
        finally
        {
            child.Kill();
        }
    }

    [Fact]
    public void ReadTree_AGoneProcess_IsNull() => ProcessCpu.ReadTree(int.MaxValue).Should().BeNull();
}
