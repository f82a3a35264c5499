using FluentAssertions;
using Reqnroll;
using Tcm.Features.Drivers;
using Tcm.Protocol.Admin;
using Tcm.Lab;
using Tcm.Lab.Fleet;
using Tcm.Lab.Network;

namespace Tcm.Features.Steps;

/// <summary>Why an agent works over HTTP polling, in the scenarios' words.</summary>
internal enum FallbackReason
{
    TcmCommunicationIsOff,
    NoProfileWithPersistentConnectionsTargetsIt,
    TheServerCannotBeReached,
    ItsPersistentConnectionWasTerminated,
}

/// <summary>One row of "these agents:". Columns left out take the defaults of <see cref="AgentDefinition"/>.</summary>
internal sealed class AgentRow
{
    public string Agent { get; set; } = "";
    public AgentLocation Location { get; set; } = AgentLocation.Office;
    public string Group { get; set; } = "features";
    public string Site { get; set; } = "London";
    public string VpnAdapter { get; set; } = "";
    public string Vpn { get; set; } = "";
    public string CemSettings { get; set; } = "missing";
}

/// <summary>Endpoints: which agents exist, where, starting them, and how they are connected (their Network Status).</summary>
[Binding]
internal sealed class AgentSteps(FleetDriver fleet, ScenarioContext scenario)
{
    private const string Reasons = "(TCM communication is off|no profile with persistent connections targets it|the server cannot be reached|its persistent connection was terminated)";

    [Given(@"^an agent ""([^""]+)"" (?:in|on) the (office|internet)(" + AgentTail.Pattern + ")$")]
    public Task GivenAnAgent(string name, AgentLocation location, AgentDefinition tail) =>
        fleet.AddAsync(tail with { Name = name, Location = location });

    [Given("^these agents:$")]
    public async Task GivenTheseAgents(DataTable table)
    {
        foreach (var row in table.CreateSet<AgentRow>())
        {
            await fleet.AddAsync(new AgentDefinition
            {
                Name = row.Agent,
                Location = row.Location,
                Group = row.Group,
                Site = row.Site,
                VpnAdapter = row.VpnAdapter,
                VpnUp = row.Vpn.Equals("up", StringComparison.OrdinalIgnoreCase),
                Cem = Enum.Parse<CemValidity>(row.CemSettings, ignoreCase: true),
            });
        }
    }

    [StepDefinition(@"^""([^""]+)"" (?:starts|is started)$")]
    public Task Starts(string name) => fleet.StartAsync(name);

    [StepDefinition("^all agents (?:start|are started)$")]
    public Task AllStart() => fleet.StartAllAsync();

    [Given(@"^""([^""]+)"" is started and works over HTTP polling$")]
    public async Task GivenStartedOnHttp(string name)
    {
        await fleet.StartAsync(name);
        await fleet.WaitForAgentIdAsync(name);
        await fleet.WaitForAsync(name, v => v.OnHttp && v.Status!.Mode != ConnectionMode.Offline, FleetDriver.DefaultWait, "to work over HTTP polling");
    }

    [Given(@"^""([^""]+)"" is on the persistent connection$")]
    public async Task GivenOnThePersistentConnection(string name)
    {
        await fleet.StartAsync(name);
        await fleet.WaitForAsync(name, v => v.Persistent, FleetDriver.DefaultWait, "to be on the persistent connection");
    }

    [StepDefinition(@"^within (\S+) " + StepText.AgentList + " (?:is|are) on the persistent connection$")]
    public async Task WithinOnThePersistentConnection(TimeSpan within, string agents)
    {
        foreach (var name in StepText.Names(agents))
        {
            await fleet.WaitForAsync(name, v => v.Persistent, within, "to be on the persistent connection");
        }
    }

    [StepDefinition(@"^within (\S+) " + StepText.AgentList + " works? over HTTP polling$")]
    public async Task WithinOnHttp(TimeSpan within, string agents)
    {
        foreach (var name in StepText.Names(agents))
        {
            await fleet.WaitForAsync(name, v => v.OnHttp, within, "to work over HTTP polling");
        }
    }

    [StepDefinition(@"^within (\S+) " + StepText.AgentList + " works? over HTTP polling because " + Reasons + "$")]
    public async Task WithinOnHttpBecause(TimeSpan within, string agents, FallbackReason reason)
    {
        var code = reason switch
        {
            FallbackReason.TcmCommunicationIsOff => "tcm-disabled",
            FallbackReason.NoProfileWithPersistentConnectionsTargetsIt => "persistent-connection-not-enabled",
            FallbackReason.TheServerCannotBeReached => "reconnecting",
            _ => "terminated",
        };
        foreach (var name in StepText.Names(agents))
        {
            await fleet.WaitForAsync(
                name,
                v => v.OnHttp && (v.Status!.TransportDetail ?? "").Contains(code, StringComparison.OrdinalIgnoreCase),
                within,
                $"to work over HTTP polling, its Network Status giving the reason '{code}'");
        }
    }

    [Then(@"^""([^""]+)"" stays on HTTP polling for (\S+)$")]
    public Task StaysOnHttp(string name, TimeSpan period) =>
        fleet.HoldsForAsync(name, v => v.OnHttp, period, "to stay on HTTP polling");

    [Then(@"^""([^""]+)"" stays off the persistent connection for (\S+)$")]
    public Task StaysOffThePersistentConnection(string name, TimeSpan period) =>
        fleet.HoldsForAsync(name, v => !v.Persistent, period, "to stay off the persistent connection");

    [Then(@"^the Network Status of ""([^""]+)"" shows ""([^""]+)""$")]
    public void NetworkStatusShows(string name, string text)
    {
        var view = fleet.View(name);
        var status = view.Status ?? throw new InvalidOperationException($"\"{name}\" is not running: it has no Network Status");
        string[] lines = [status.ServerAddress ?? "", status.Availability, status.CemState, status.TransportDetail ?? "", status.RouteReason ?? "", status.Proxy ?? "", status.ProxyProblem ?? ""];
        lines.Should().Contain(l => l.Contains(text, StringComparison.OrdinalIgnoreCase), $"the Network Status of \"{name}\" should show \"{text}\"; it shows: {view}");
    }

    [When(@"^""Terminate persistent connection"" is chosen in the Network Status of ""([^""]+)"", to reconnect after (\S+)$")]
    public Task TerminateOnTheAgent(string name, TimeSpan reconnectAfter) => fleet.TerminateOnAgentAsync(name, reconnectAfter);

    [Then(@"^while the server was away ""([^""]+)"" retried with back-off$")]
    public void RetriedWithBackoff(string name)
    {
        var away = scenario.TryGetValue<TimeSpan>(LabSteps.ServerAwayKey, out var at)
            ? at
            : throw new InvalidOperationException("no server went away in this scenario");
        var until = scenario.TryGetValue<TimeSpan>(LabSteps.ServerBackKey, out var back) ? back : fleet.Now;
        // Both connections back off: the core agent's to its Notification Server and, where the lab has Task Servers, the
        // Client Task Agent's (whose retries must keep growing over whole rounds of its Task Server list).
        var all = fleet.Log(name).Since(away, "Backoff").Where(e => e.At <= until).ToArray();
        static string Host(AgentLogEntry e) => e.Values.GetValueOrDefault("HostAndPort")?.ToString() ?? "";
        var ns = all.Where(e => Host(e).StartsWith(InProcessLab.NotificationServerHost + ":", StringComparison.OrdinalIgnoreCase)).ToArray();
        BackoffCheck.Verify(name, ns, until - away);
        var ts = all.Where(e => Host(e).StartsWith("ts", StringComparison.OrdinalIgnoreCase)).ToArray();
        if (ts.Length >= 2)
        {
            BackoffCheck.Verify($"{name} (Task Server connection)", ts, until - away);
        }
    }
}

/// <summary>What "retried with back-off" means, measured on the agent's own log ("Reconnecting ... in 1.2 s (attempt 3)").</summary>
internal static class BackoffCheck
{
    /// <summary>
    /// At least two retries; their attempt numbers keep growing (the delay's ceiling doubles, nothing resets it while the
    /// server is away); and far fewer retries than a loop without back-off would make: at most one per 200 ms on average
    /// plus five (the first delays are short by design: full jitter from 0.5 s).
    /// </summary>
    public static void Verify(string name, IReadOnlyList<AgentLogEntry> retries, TimeSpan period)
    {
        var attempts = retries.Select(e => Convert.ToInt32(e.Values.GetValueOrDefault("Attempt") ?? 0, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var log = string.Join(Environment.NewLine, retries.Select(r => "  " + r));
        attempts.Length.Should().BeGreaterThanOrEqualTo(2, $"\"{name}\" should have retried while the server was away; its retries:{Environment.NewLine}{log}");
        attempts.Should().BeInAscendingOrder($"the back-off of \"{name}\" should grow attempt by attempt; its retries:{Environment.NewLine}{log}");
        attempts.Should().OnlyHaveUniqueItems($"the back-off of \"{name}\" should grow attempt by attempt; its retries:{Environment.NewLine}{log}");
        attempts.Length.Should().BeLessThanOrEqualTo((int)(period.TotalSeconds * 5) + 5, $"\"{name}\" should not hammer the server; its retries:{Environment.NewLine}{log}");
    }
}
