using Tcm.Lab.Storage;
using Tcm.LoadTests.Cli;
using Tcm.Testing;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// push-fanout with the Notification Server on PostgreSQL, one node then two, in one invocation through the command line: every
/// agent on either node answers every fan-out started on node 1, and the report has each node's CPU, their sum and PostgreSQL's.
/// Checks the deployment and the figures' presence, not the speed. Needs PostgreSQL (skipped without it outside CI).
/// </summary>
[Collection(nameof(BaselineSmokeTests))]
public sealed class TcmPostgresSmokeTests : SmokeRun
{
    [PostgresFact]
    public async Task PushFanout_OnPostgres_OneNodeThenTwo_ReachesEveryAgent_AndReadsEachNodeAndPostgres()
    {
        var admin = await StoreSelection.AdminConnectionStringAsync(CancellationToken.None);

        var (exitCode, output, report) = await RunAsync(
            ["push-fanout", "--variant", "tcm", "--agents", "6", "--duration", "1200ms", "--interval", "400ms", "--protocol", "h2",
             "--store", admin, "--ns-nodes", "1,2", "--warmup", "2", "--warmup-interval", "200ms",
             "--warmup-small", "5", "--warmup-settle", "200ms"]);

        exitCode.Should().Be(ExitCodes.Passed, output);
        report.CommandLine.Should().NotContain(new Npgsql.NpgsqlConnectionStringBuilder(admin).Password ?? "\u0000", "the report keeps no password");
        var scenarios = report.Variants.Should().ContainSingle().Which.Scenarios;
        scenarios.Select(s => s.Name).Should().Equal("push-fanout-h2-pg", "push-fanout-h2-pg-2nodes");
        foreach (var scenario in scenarios)
        {
            EveryAgentAnsweredEveryRound(scenario, agents: 6);
            scenario.FindGauge("postgres-cpu").Should().NotBeNull("PostgreSQL's processes are read from /proc");
            scenario.FindGauge("ns-and-postgres-cpu-per-task").Should().NotBeNull();
            scenario.FindGauge("warmup-fanouts-failed")!.Value.Should().Be(0, "the warm-up agents, on node 1, answer their small fan-outs");
        }

        scenarios[0].FindGauge("node1-cpu").Should().BeNull("one node is the server");
        var two = scenarios[1];
        var node1 = two.FindGauge("node1-cpu")!.Value;
        var node2 = two.FindGauge("node2-cpu")!.Value;
        two.FindGauge("server-cpu")!.Value.Should().BeApproximately(node1 + node2, 0.001, "the server's figure is its nodes summed");
        two.FindGauge("node2-cpu-per-task").Should().NotBeNull();
    }
}
