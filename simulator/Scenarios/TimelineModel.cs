using Tcm.Protocol;

namespace Tcm.Simulator.Scenarios;

/// <summary>
/// One timeline event: when it happens (<see cref="Trigger"/>), what it does (<see cref="Action"/>) and to whom (<see cref="Select"/>).
/// An event "has happened" once its action has been carried out (for <c>start-agents</c> with a ramp: once the last agent started;
/// for a condition trigger: once the condition held or its timeout elapsed); <c>after: &lt;id&gt;</c> counts from then.
/// </summary>
internal sealed record TimelineEvent
{
    /// <summary>The <c>id:</c> given in the file, or <c>{kind}-{n}</c> (n = 1-based position) when none was.</summary>
    public required string Id { get; init; }
    /// <summary>Whether <see cref="Id"/> was written in the file.</summary>
    public bool HasExplicitId { get; init; }
    public required Trigger Trigger { get; init; }
    public required ScenarioAction Action { get; init; }
    public Selection Select { get; init; } = Selection.All;
    public SourcePosition Position { get; init; }

    public override string ToString() => $"{Id}: {Trigger} {Action.Kind}" + (Select.IsAll ? "" : $" [{Select}]");
}

/// <summary>When an event happens.</summary>
internal abstract record Trigger;

/// <summary><c>at: 30s</c>: this long after the run started.</summary>
internal sealed record AtTrigger(TimeSpan At) : Trigger
{
    public override string ToString() => $"at {DurationText.Format(At)}";
}

/// <summary><c>after: &lt;event-id&gt;</c> (+ <c>delay</c>): when another event has happened.</summary>
internal sealed record AfterEventTrigger(string EventId, TimeSpan Delay) : Trigger
{
    public override string ToString() => Delay == TimeSpan.Zero ? $"after {EventId}" : $"{DurationText.Format(Delay)} after {EventId}";
}

/// <summary>
/// <c>after: &lt;condition&gt;</c> (+ <c>delay</c>, <c>timeout</c>): when the condition first holds, checked from the moment the
/// previous event in the file (<see cref="SinceEventId"/>) has happened, or from the start for the first event; the timeout
/// counts from then too. When <see cref="Timeout"/> elapses first, the event happens anyway and the report marks it timed out.
/// </summary>
internal sealed record AfterConditionTrigger(Condition Condition, TimeSpan Delay, TimeSpan? Timeout) : Trigger
{
    /// <summary>The event before this one in the file, or null when this is the first event.</summary>
    public string? SinceEventId { get; init; }

    public override string ToString() => $"after {Condition.Text}" + (Timeout is { } t ? $" (timeout {DurationText.Format(t)})" : "");
}

// ------------------------------------------------------------------ actions

/// <summary>
/// What an event does. <see cref="Kind"/> is the <c>do:</c> word, which each action declares as its <c>Word</c>;
/// <see cref="ActionValidator.KeysOf"/> lists every word with the keys it takes.
/// </summary>
/// <param name="Kind">The action's <c>do:</c> word.</param>
internal abstract record ScenarioAction(string Kind)
{
    /// <summary>Actions whose results can be measured (<c>task-completed</c>, latency percentiles).</summary>
    public static bool IsPush(string kind) => kind is PushTaskAction.Word or InventoryNowAction.Word or PushPolicyAction.Word;
}

/// <summary><c>start-agents</c>: start the selected agents that are not running, spread evenly over <see cref="Ramp"/>.</summary>
internal sealed record StartAgentsAction(TimeSpan Ramp) : ScenarioAction(Word)
{
    public const string Word = "start-agents";
}

/// <summary><c>stop-agents</c>: stop the selected agents (service stop: connections closed gracefully).</summary>
internal sealed record StopAgentsAction() : ScenarioAction(Word)
{
    public const string Word = "stop-agents";
}

/// <summary>
/// <c>vpn-up</c>: connect the VPN of the selected agents that have a VPN client; with <see cref="Adapter"/> (<c>adapter:</c>, a preset,
/// adapter name or description) only that VPN client of machines that have it.
/// </summary>
internal sealed record VpnUpAction(string? Adapter = null) : ScenarioAction(Word)
{
    public const string Word = "vpn-up";
}

/// <summary><c>vpn-down</c>: disconnect the VPN of the selected agents; with <see cref="Adapter"/> only that VPN client (the others stay up).</summary>
internal sealed record VpnDownAction(string? Adapter = null) : ScenarioAction(Word)
{
    public const string Word = "vpn-down";
}

/// <summary>
/// <c>set-profile</c>: the admin adds a communication profile (named <see cref="Profile"/>, starting from the Default profile's settings,
/// matching nobody until given targets) or changes one (the lab's <c>Default</c>, a group's <c>group &lt;name&gt;</c>, or one a
/// scenario added), through the admin API; unset fields keep their value. The server moves every agent's policy on.
/// </summary>
internal sealed record SetProfileAction(string Profile, ProfileTargets? Targets, bool? Persistent, CemValidity? Cem, int? Priority) : ScenarioAction(Word)
{
    public const string Word = "set-profile";
}

/// <summary>
/// A profile's targets as a scenario writes them: <c>all</c>, <c>none</c>, a list of groups (their machines by computer name, as an
/// admin lists machines), or attribute rules that must all match (<c>{ group: home, site: "Lon*" }</c>).
/// </summary>
internal sealed record ProfileTargets
{
    public static ProfileTargets Everyone { get; } = new() { All = true };
    public static ProfileTargets Nobody { get; } = new();

    public bool All { get; init; }
    /// <summary>Groups whose machines are listed by computer name.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];
    /// <summary>Attribute patterns (<c>group</c>, <c>site</c>, <c>os</c>, <c>computerName</c>, <c>domain</c>), all of which must match.</summary>
    public IReadOnlyDictionary<string, string> Rules { get; init; } = new Dictionary<string, string>();

    public override string ToString() => All ? "all"
        : Groups.Count > 0 ? "the machines of " + string.Join(", ", Groups)
        : Rules.Count > 0 ? string.Join(", ", Rules.Select(r => $"{r.Key}={r.Value}"))
        : "none";
}

/// <summary><c>move</c>: take the selected agents to another location (their sockets break, as a laptop's do).</summary>
internal sealed record MoveAction(AgentLocation To) : ScenarioAction(Word)
{
    public const string Word = "move";
}

/// <summary><c>set-tcm</c>: switch the server setting "TCM communication".</summary>
internal sealed record SetTcmAction(bool Enabled) : ScenarioAction(Word)
{
    public const string Word = "set-tcm";
}

/// <summary><c>set-settings</c>: change targeted agent settings of the selected groups (the server pushes the new policy).</summary>
internal sealed record SetSettingsAction(SettingsSpec Settings) : ScenarioAction(Word)
{
    public const string Word = "set-settings";
}

/// <summary>
/// <c>push-task</c>: an admin pushes a task to the selected agents. <see cref="Timeout"/> is the task's timeout; <see cref="Waves"/>
/// sends it in waves with a brake (null: to all at once).
/// </summary>
internal sealed record PushTaskAction(string Command, IReadOnlyDictionary<string, string> Parameters, TimeSpan Timeout, Tcm.Protocol.Admin.WavePlan? Waves = null) : ScenarioAction(Word)
{
    public const string Word = "push-task";
}

/// <summary><c>push-policy</c>: push the current policy to the selected agents now.</summary>
internal sealed record PushPolicyAction() : ScenarioAction(Word)
{
    public const string Word = "push-policy";
}

/// <summary><c>inventory-now</c>: on-demand inventory of the selected agents.</summary>
internal sealed record InventoryNowAction(IReadOnlyList<string> Classes) : ScenarioAction(Word)
{
    public const string Word = "inventory-now";
}

/// <summary><c>terminate-connections</c>: the admin's "Terminate persistent connection" for the selected agents.</summary>
internal sealed record TerminateConnectionsAction(TimeSpan ReconnectAfter) : ScenarioAction(Word)
{
    public const string Word = "terminate-connections";
}

/// <summary><c>drop-connections</c>: the selected agents' network drops every open socket (no close handshake).</summary>
internal sealed record DropConnectionsAction() : ScenarioAction(Word)
{
    public const string Word = "drop-connections";
}

/// <summary>
/// <c>stop-server</c> / <c>start-server</c> / <c>kill-server</c> with <c>server: ns|ts1|ts2|...|gateway|proxy</c>, and
/// <c>refuse-credentials</c> / <c>accept-credentials</c> with <c>server: proxy</c>.
/// </summary>
internal sealed record ServerAction(ServerOperation Operation, string Server) : ScenarioAction(WordOf(Operation))
{
    public const string StopWord = "stop-server";
    public const string StartWord = "start-server";
    public const string KillWord = "kill-server";
    public const string RefuseCredentialsWord = "refuse-credentials";
    public const string AcceptCredentialsWord = "accept-credentials";

    private static string WordOf(ServerOperation operation) => operation switch
    {
        ServerOperation.Stop => StopWord,
        ServerOperation.Start => StartWord,
        ServerOperation.RefuseCredentials => RefuseCredentialsWord,
        ServerOperation.AcceptCredentials => AcceptCredentialsWord,
        _ => KillWord,
    };
}

/// <summary><c>download-package</c>: the selected agents download a package offered on these codebases.</summary>
internal sealed record DownloadPackageAction(string Package, long SizeBytes, IReadOnlyList<CodebaseSpec> Codebases) : ScenarioAction(Word)
{
    public const string Word = "download-package";
}

/// <summary><c>wait</c> (or no <c>do:</c>): nothing; a point on the timeline others can be <c>after</c>.</summary>
internal sealed record WaitAction() : ScenarioAction(Word)
{
    public const string Word = "wait";
}

