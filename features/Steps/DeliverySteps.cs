using FluentAssertions;
using Reqnroll;
using Tcm.Features.Drivers;
using Tcm.Protocol;

namespace Tcm.Features.Steps;

/// <summary>The administrator's actions (tasks, terminate) and what the server and the agents report about them.</summary>
[Binding]
internal sealed class DeliverySteps(AdminDriver admin, FleetDriver fleet, LabDriver lab)
{
    private string? _stoppedTaskServer;

    [StepDefinition(@"^the administrator pushes the task ""([^""]+)"" to (all agents|" + StepText.AgentNames + ")$")]
    public Task PushTask(string task, string agents) =>
        admin.PushTaskAsync(task, agents == "all agents" ? [.. fleet.Names] : StepText.Names(agents));

    [When(@"^the administrator terminates the persistent connection of ""([^""]+)""$")]
    public Task Terminate(string name) => admin.TerminateAsync(name);

    [StepDefinition(@"^within (\S+) the task ""([^""]+)"" has succeeded on all its agents$")]
    public Task SucceededOnAll(TimeSpan within, string task) =>
        admin.WaitForAsync(task, s => s.Targets.Count > 0 && s.Targets.All(t => t.State == TaskState.Succeeded), within, "to succeed on all its agents");

    [StepDefinition(@"^within (\S+) the task ""([^""]+)"" is running on ""([^""]+)""$")]
    public Task RunningOn(TimeSpan within, string task, string name)
    {
        var id = admin.Action(task).Created.ActionId;
        return Eventually.WaitAsync(() => fleet.Executions(name, id), n => n >= 1, within, $"\"{name}\" to start the task \"{task}\"", CancellationToken.None);
    }

    [Then(@"^the task ""([^""]+)"" reached " + StepText.AgentList + " (over the persistent connection|by HTTP polling)$")]
    public async Task ReachedVia(string task, string agents, string how)
    {
        var via = how == "by HTTP polling" ? "http" : "persistent";
        var status = await admin.StatusAsync(task);
        foreach (var name in StepText.Names(agents))
        {
            var id = await fleet.WaitForAgentIdAsync(name);
            var target = status.Targets.SingleOrDefault(t => t.AgentId == id);
            target.Should().NotBeNull($"\"{task}\" should have targeted \"{name}\"; status: {AdminDriver.Describe(status)}");
            target!.DeliveredVia.Should().Be(via, $"\"{task}\" should have reached \"{name}\" {how}; status: {AdminDriver.Describe(status)}");
        }
    }

    [Then(@"^every agent ran the task ""([^""]+)"" exactly once$")]
    public void RanExactlyOnce(string task)
    {
        var (created, agents) = admin.Action(task);
        foreach (var name in agents)
        {
            fleet.Executions(name, created.ActionId).Should().Be(1, $"\"{name}\" should have run \"{task}\" exactly once");
        }
    }

    [Then(@"^the server stored exactly one result per agent for the task ""([^""]+)""$")]
    public async Task OneResultEach(string task)
    {
        var status = await admin.StatusAsync(task);
        status.Targets.Should().HaveCount(admin.Action(task).Agents.Count, AdminDriver.Describe(status));
        status.Targets.Should().OnlyContain(t => t.ResultCount == 1, $"each agent's result should be stored exactly once; status: {AdminDriver.Describe(status)}");
    }

    [Then(@"^the output of the task ""([^""]+)"" on every agent is ""([^""]*)""$")]
    public async Task OutputIs(string task, string output)
    {
        var status = await admin.StatusAsync(task);
        status.Targets.Should().OnlyContain(t => t.Output == output, AdminDriver.Describe(status));
    }

    [Then(@"^the task ""([^""]+)"" is still reported succeeded on all its agents, with the output ""([^""]*)""$")]
    public async Task StillSucceeded(string task, string output)
    {
        var status = await admin.WaitForAsync(task, _ => true, FleetDriver.DefaultWait, "to be readable after the restart");
        status.Targets.Should().HaveCount(admin.Action(task).Agents.Count, AdminDriver.Describe(status));
        status.Targets.Should().OnlyContain(t => t.State == TaskState.Succeeded && t.Output == output, AdminDriver.Describe(status));
    }

    [Then(@"^within (\S+) ""([^""]+)"" has finished the task ""([^""]+)"" and holds its result for the server$")]
    public Task HoldsResult(TimeSpan within, string name, string task)
    {
        var id = admin.Action(task).Created.ActionId;
        return Eventually.WaitAsync(
            () => (Runs: fleet.Executions(name, id), Held: fleet.PendingResults(name)),
            s => s.Runs == 1 && s.Held >= 1,
            within,
            $"\"{name}\" to finish \"{task}\" and keep its result until the server acknowledges it",
            CancellationToken.None);
    }

    // :: Task Server failover (the lab's ts1 and ts2; pending through RequireTaskServersAsync in a lab without them)

    [Given(@"^""([^""]+)"" is on the persistent connection to the Notification Server and to a Task Server$")]
    public async Task OnBothConnections(string name)
    {
        await lab.RequireTaskServersAsync(1);
        await fleet.StartAsync(name);
        await fleet.WaitForAsync(name, v => v.Persistent && v.Status!.TaskServer is { Transport: Tcm.Protocol.Admin.TransportKind.Persistent }, FleetDriver.DefaultWait,
            "to be on the persistent connection to the Notification Server and to a Task Server");
    }

    [When(@"^the Task Server of ""([^""]+)"" stops$")]
    public async Task TaskServerStops(string name)
    {
        await lab.RequireTaskServersAsync(2);
        var server = fleet.View(name).Status?.TaskServer?.ServerAddress
            ?? throw new InvalidOperationException($"\"{name}\" has no Task Server connection");
        var host = await lab.LabAsync();
        var endpoint = host.Topology.Endpoints.FirstOrDefault(e => server.StartsWith(e.Host, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"no lab server answers to '{server}'");
        _stoppedTaskServer = server;
        await lab.StopServerAsync(endpoint.Label, kill: false);
    }

    [Then(@"^within (\S+) ""([^""]+)"" is on the persistent connection to the other Task Server$")]
    public async Task OnTheOtherTaskServer(TimeSpan within, string name)
    {
        await lab.RequireTaskServersAsync(2);
        var before = _stoppedTaskServer ?? throw new InvalidOperationException("no Task Server was stopped in this scenario");
        await fleet.WaitForAsync(
            name,
            v => v.Status?.TaskServer is { Transport: Tcm.Protocol.Admin.TransportKind.Persistent } ts && ts.ServerAddress != before,
            within,
            "to be on the persistent connection to another Task Server");
    }
}
