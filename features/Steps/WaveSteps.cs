using System.Globalization;
using FluentAssertions;
using Reqnroll;
using Tcm.Features.Drivers;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Features.Steps;

/// <summary>Tasks in waves with a brake: the push, each wave's agents and time, and the targets the brake kept back.</summary>
[Binding]
internal sealed class WaveSteps(AdminDriver admin, FleetDriver fleet)
{
    [Given(@"^every task fails on the agents in group ""([^""]+)""$")]
    public void TasksFail(string group) => fleet.FailTasksOf(group);

    [When(@"^the administrator pushes the task ""([^""]+)"" to all agents in waves of (\d+%?) every (\S+)$")]
    public Task PushInWaves(string task, string size, TimeSpan every) => PushInWaves(task, size, every, null);

    [When(@"^the administrator pushes the task ""([^""]+)"" to all agents in waves of (\d+%?) every (\S+), stopping after (\d+%?) failed$")]
    public Task PushInWaves(string task, string size, TimeSpan every, string? stop)
    {
        var plan = new WavePlan { EverySeconds = every.TotalSeconds };
        plan = size.EndsWith('%') ? plan with { Percent = Number(size) } : plan with { Size = (int)Number(size) };
        if (!string.IsNullOrEmpty(stop))
        {
            plan = stop.EndsWith('%') ? plan with { StopAfterFailedPercent = Number(stop) } : plan with { StopAfterFailedCount = (int)Number(stop) };
        }

        return admin.PushTaskAsync(task, [.. fleet.Names], plan);
    }

    [Then(@"^the task ""([^""]+)"" went out in (\d+) waves, each at least (\S+) after the one before$")]
    public async Task WentOutInWaves(string task, int count, TimeSpan apart)
    {
        var waves = (await admin.StatusAsync(task)).Waves;
        waves.Should().NotBeNull($"\"{task}\" should have gone out in waves");
        waves!.State.Should().Be(ActionWaves.Done);
        waves.Items.Should().HaveCount(count).And.OnlyContain(w => w.StartedAt != null);
        for (var i = 1; i < waves.Items.Count; i++)
        {
            (waves.Items[i].StartedAt!.Value - waves.Items[i - 1].StartedAt!.Value).Should().BeGreaterThanOrEqualTo(apart, $"wave {i + 1} must wait for its turn");
        }
    }

    [Then(@"^the waves of the task ""([^""]+)"" were (.+)$")]
    public async Task WavesWere(string task, string lists)
    {
        var status = await admin.StatusAsync(task);
        var expected = StepText.Names(lists).Select(w => w.Split(',', StringSplitOptions.TrimEntries)).ToList();
        var actual = status.Targets.GroupBy(t => t.Wave ?? 0).OrderBy(g => g.Key).Select(g => g.Select(t => t.ComputerName).Order(StringComparer.Ordinal).ToArray()).ToList();
        actual.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering(), AdminDriver.Describe(status));
    }

    [Then(@"^within (\S+) the brake stopped the waves of the task ""([^""]+)"": ""([^""]+)""$")]
    public async Task BrakeStopped(TimeSpan within, string task, string reason)
    {
        var status = await admin.WaitForAsync(task, s => s.Waves?.State == ActionWaves.Stopped && s.Targets.All(t => t.State is not (TaskState.Pending or TaskState.Delivered or TaskState.Running)),
            within, "to be stopped by the brake, with every target settled");
        status.Waves!.StopReason.Should().StartWith(reason);
    }

    [Then(@"^the task ""([^""]+)"" was not sent to " + StepText.AgentList + ", with the brake's reason$")]
    public async Task NotSent(string task, string agents)
    {
        var status = await admin.StatusAsync(task);
        var names = StepText.Names(agents);
        status.Targets.Where(t => names.Contains(t.ComputerName)).Should().HaveCount(names.Count)
            .And.OnlyContain(t => t.State == TaskState.NotSent && t.Output == status.Waves!.StopReason && t.DeliveredAt == null, AdminDriver.Describe(status));
        foreach (var name in names)
        {
            fleet.Executions(name, admin.Action(task).Created.ActionId).Should().Be(0, $"\"{name}\" must never have run \"{task}\"");
        }
    }

    [Then(@"^the task ""([^""]+)"" succeeded on " + StepText.AgentList + " and failed on " + StepText.AgentList + "$")]
    public async Task SucceededAndFailed(string task, string succeeded, string failed)
    {
        var status = await admin.StatusAsync(task);
        foreach (var (names, state) in new[] { (StepText.Names(succeeded), TaskState.Succeeded), (StepText.Names(failed), TaskState.Failed) })
        {
            status.Targets.Where(t => names.Contains(t.ComputerName)).Should().HaveCount(names.Count).And.OnlyContain(t => t.State == state, AdminDriver.Describe(status));
        }
    }

    private static double Number(string text) => double.Parse(text.TrimEnd('%'), CultureInfo.InvariantCulture);
}
