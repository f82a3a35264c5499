using Tcm.Lab.Storage;
using Tcm.LoadTests.Cli;
using Tcm.LoadTests.Variants;

namespace Tcm.LoadTests.Tests;

/// <summary><c>--store</c> and <c>--ns-nodes</c>: what they parse into, what they refuse, and how their scenarios meet the baseline's.</summary>
public sealed class NsDeploymentTests : SmokeRun
{
    [Fact]
    public void Nothing_Given_IsOneNodeOnSqlite_TodaysDeployment()
    {
        var (deployments, errors) = NsDeployment.Parse(null, null);

        errors.Should().BeEmpty();
        deployments.Should().Equal(NsDeployment.Default);
        NsDeployment.Default.ScenarioSuffix.Should().BeEmpty("the scenario names of earlier reports stay as they were");
    }

    [Fact]
    public void StoresTimesNodeCounts_InOrder_LeaveOutSeveralNodesOnSqlite()
    {
        var (deployments, errors) = NsDeployment.Parse("sqlite,postgresql", "1,2");

        errors.Should().BeEmpty();
        deployments.Should().Equal(
            new NsDeployment(StoreKind.Sqlite, 1),
            new NsDeployment(StoreKind.PostgreSql, 1),
            new NsDeployment(StoreKind.PostgreSql, 2));
        deployments.Select(d => d.ScenarioSuffix).Should().Equal("", "-pg", "-pg-2nodes");
    }

    [Fact]
    public void AConnectionString_IsOnePostgresServer_ItsPasswordKeptOutOfTheDescription()
    {
        const string admin = "Host=127.0.0.1;Port=5433;Username=postgres;Password=secret;Database=postgres";

        var (deployments, errors) = NsDeployment.Parse(admin, "2");

        errors.Should().BeEmpty();
        deployments.Should().Equal(new NsDeployment(StoreKind.PostgreSql, 2, admin));
        deployments[0].Description.Should().Contain("2 nodes").And.NotContain("secret");
    }

    [Theory]
    [InlineData("sqlite", "2", "needs --store postgresql")]
    [InlineData(null, "2", "needs --store postgresql")]
    [InlineData("mysql", "1", "is not a store")]
    [InlineData("postgresql", "0", "is not a node count")]
    [InlineData("postgresql", "9", "is not a node count")]
    [InlineData("postgresql", "two", "is not a node count")]
    public void WhatCannotRun_IsAnError_ThatSaysWhy(string? store, string nodes, string why)
    {
        var (deployments, errors) = NsDeployment.Parse(store, nodes);

        deployments.Should().BeEmpty();
        errors.Should().ContainSingle().Which.Should().Contain(why);
    }

    [Theory]
    [InlineData("push-fanout-h2-pg", "push-fanout-h2")]
    [InlineData("push-fanout-h2-pg-2nodes", "push-fanout-h2")]
    [InlineData("push-fanout-h1-gw-pg", "push-fanout-h1")]
    [InlineData("push-fanout-h2", "push-fanout-h2")]
    [InlineData("push-fanout-h2-gw", "push-fanout-h2")]
    [InlineData("push-fanout-h2-pgx", "push-fanout-h2-pgx")]
    public void EveryDeploymentsScenario_IsComparedWithTheBaselinesOfItsProtocol(string scenario, string baseline) =>
        ScenarioNames.BaselineOf(scenario).Should().Be(baseline);

    [Theory]
    [InlineData("push-fanout", "--ns-nodes", "2")]
    [InlineData("push-fanout", "--store", "sqlite", "--ns-nodes", "2")]
    [InlineData("push-fanout", "--store", "oracle")]
    [InlineData("push-fanout", "--store", "postgresql", "--ns-nodes", "2", "--route", "gateway")]
    [InlineData("push-fanout", "--store", "postgresql", "--ns-nodes", "2", "--task-server")]
    [InlineData("push-fanout", "--store", "postgresql", "--processes", "2")]
    [InlineData("push-fanout", "--store", "postgresql", "--target", "https://ns.example:4443")]
    [InlineData("push-fanout", "--store", "postgresql", "--variant", "baseline")]
    [InlineData("connect-storm", "--store", "postgresql")]
    public async Task BadDeployment_GivesExitCodeTwo_AndAnError(params string[] args)
    {
        var output = new StringWriter();

        var exitCode = await LoadTestCli.RunAsync([.. args, "--report", Folder], output);

        exitCode.Should().Be(ExitCodes.UsageError, output.ToString());
        output.ToString().Should().Contain("error");
    }

    [Fact]
    public void SeveralNodes_NeedTheLabsOneProcess_Direct()
    {
        NsDeployment[] two = [new(StoreKind.PostgreSql, 2)];

        LoadTestCli.DeploymentConflicts(two, "both", "lab", 1, null, taskServer: false).Should().BeEmpty();
        LoadTestCli.DeploymentConflicts(two, "both", "lab", 1, "direct", taskServer: false).Should().BeEmpty();
        LoadTestCli.DeploymentConflicts(two, "tcm", "lab", 1, "both", taskServer: false).Should().ContainSingle().Which.Should().Contain("direct");
        LoadTestCli.DeploymentConflicts([NsDeployment.Default], "baseline", "https://x", 4, "gateway", taskServer: true).Should().BeEmpty("today's deployment is not asked for");
    }
}
