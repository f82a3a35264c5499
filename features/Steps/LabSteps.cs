using Reqnroll;
using Tcm.Features.Drivers;

namespace Tcm.Features.Steps;

/// <summary>The lab and the administrator's server-wide settings: servers stopping and starting, TCM communication, profiles, agent settings.</summary>
[Binding]
internal sealed class LabSteps(LabDriver lab, AdminDriver admin, FleetDriver fleet, ScenarioContext scenario)
{
    /// <summary>Scenario keys: when (on the agents' log clock) a server went away and came back.</summary>
    public const string ServerAwayKey = "server away at";
    public const string ServerBackKey = "server back at";

    [Given("^the lab has a CEM gateway$")]
    public Task TheLabHasAGateway() => lab.RequireGatewayAsync();

    [Given(@"^the lab has (\d+) Task Servers?$")]
    public Task TheLabHasTaskServers(int count) => lab.RequireTaskServersAsync(count);

    [Given("^TCM communication is (on|off)$")]
    [When("^the administrator turns TCM communication (on|off)$")]
    public Task TcmCommunication(bool on) => admin.SetTcmAsync(on);

    [Given(@"^agents check for a new policy and poll for tasks every (\S+)$")]
    public Task PollEvery(TimeSpan interval) =>
        admin.ChangeAgentSettingsAsync(s => s with { PolicyRefreshSeconds = Seconds(interval), TaskPollSeconds = Seconds(interval) });

    [Given(@"^the Default communication profile targets only the agents in group ""([^""]+)""$")]
    public Task DefaultProfileTargetsGroup(string group) => admin.ChangeDefaultProfileAsync(p => p with { Targets = AdminDriver.Group(group) });

    [When(@"^the administrator changes the Default communication profile to target only the agents in group ""([^""]+)""$")]
    public Task ChangeDefaultProfileToGroup(string group) => admin.ChangeDefaultProfileAsync(p => p with { Targets = AdminDriver.Group(group) });

    [When("^the administrator changes the Default communication profile to target every agent$")]
    public Task ChangeDefaultProfileToEveryone() => admin.ChangeDefaultProfileAsync(p => p with { Targets = Tcm.Protocol.Admin.Targets.Everyone });

    [Given(@"^the communication profile ""([^""]+)"" with persistent connection (enabled|disabled) targets the agents in group ""([^""]+)""$")]
    public Task ProfileForGroup(string name, bool persistent, string group) => admin.SaveProfileAsync(name, persistent, AdminDriver.Group(group));

    [When("^the Notification Server (stops|is killed|starts again|is restarted)$")]
    public async Task NotificationServer(string what)
    {
        switch (what)
        {
            case "stops":
            case "is killed":
                scenario.Set(fleet.Now, ServerAwayKey);
                await lab.StopServerAsync(LabDriver.NotificationServer, kill: what == "is killed");
                break;
            case "starts again":
                await lab.StartServerAsync(LabDriver.NotificationServer);
                scenario.Set(fleet.Now, ServerBackKey);
                break;
            default:
                await lab.StopServerAsync(LabDriver.NotificationServer, kill: false);
                await lab.StartServerAsync(LabDriver.NotificationServer);
                break;
        }
    }

    [When("^the CEM gateway (stops|starts again)$")]
    public async Task Gateway(string what)
    {
        if (what == "stops")
        {
            scenario.Set(fleet.Now, ServerAwayKey);
            await lab.StopServerAsync("gateway", kill: false);
        }
        else
        {
            await lab.StartServerAsync("gateway");
            scenario.Set(fleet.Now, ServerBackKey);
        }
    }

    private static int Seconds(TimeSpan interval) => Math.Max(1, (int)Math.Round(interval.TotalSeconds));
}
