using System.Text.Json.Serialization;

namespace Tcm.Protocol;

/// <summary>
/// Paths of the Task Server traffic with its Notification Server (all under <see cref="SiteServerPaths.Root"/>, all need the Task
/// Server's site-server client certificate). The Task Server keeps a long poll open on <see cref="Work"/>: the NS answers at once when
/// it has tasks for agents the Task Server holds, else after the wait; so a task reaches the Task Server as soon as it is created.
/// </summary>
public static class TaskServerPaths
{
    /// <summary>POST <see cref="TaskServerReport"/>: the agents the Task Server holds, its address and capacity.</summary>
    public const string Report = "/tcm/site/ts/report";

    /// <summary>
    /// GET <c>?wait=seconds</c> (long poll, at most 60): <see cref="TaskServerWork"/>; with <c>&amp;groups=1</c> (<see cref="WorkGroupsQuery"/>)
    /// the NS answers a fan-out's tasks as <see cref="TaskServerWork.Groups"/>.
    /// </summary>
    public const string Work = "/tcm/site/ts/work";

    /// <summary>The work poll's query parameter by which a Task Server says it reads <see cref="TaskServerWork.Groups"/> (value <c>1</c>).</summary>
    public const string WorkGroupsQuery = "groups";

    /// <summary>POST <see cref="TaskServerAccepted"/>: tasks the Task Server has stored; the NS stops offering them to it.</summary>
    public const string Accepted = "/tcm/site/ts/accepted";

    /// <summary>POST <see cref="TaskServerStatusBatch"/>: delivered/running states of tasks (a Task Server of today sends them with its results instead).</summary>
    public const string Status = "/tcm/site/ts/status";

    /// <summary>POST <see cref="TaskServerResultBatch"/>: task states, then results, stored once per idempotency key; answers <see cref="TaskServerResultReceipts"/>.</summary>
    public const string Results = "/tcm/site/ts/results";
}

/// <summary>Task Server to NS: the agents it holds (registered with it), which of them are connected, its address and capacity.</summary>
public sealed record TaskServerReport
{
    /// <summary>The address agents dial (host:port), now that the listener is bound.</summary>
    public string? Address { get; init; }
    public int MaxAgents { get; set; } = 5000;
    /// <summary>True: <see cref="Agents"/> is the whole list (first report after a (re)connect); false: only changes.</summary>
    public bool Full { get; init; }
    public IReadOnlyList<TaskServerAgentState> Agents { get; set; } = [];
    /// <summary>Agents the Task Server no longer holds (only when not <see cref="Full"/>).</summary>
    public IReadOnlyList<string> Removed { get; set; } = [];
}

/// <summary>One agent a Task Server holds.</summary>
public sealed record TaskServerAgentState(string AgentId, bool Connected);

/// <summary>NS to Task Server: tasks for agents it holds, and agents that moved to another Task Server.</summary>
public sealed record TaskServerWork
{
    public IReadOnlyList<TaskServerAssignment> Tasks { get; set; } = [];

    /// <summary>
    /// The tasks as one task for several agents, each agent's tasks in the order <see cref="Tasks"/> would list them; sent instead of
    /// <see cref="Tasks"/> only to a Task Server that asked for them (<see cref="TaskServerPaths.WorkGroupsQuery"/>). Why: a fan-out's
    /// tasks differ only in their agent, and 2,000 copies of one task parsed at the Task Server stood at the start of every delivery.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<TaskServerTaskGroup>? Groups { get; set; }

    /// <summary>Agents now held by another Task Server: the Task Server forgets them (frees its registrations).</summary>
    public IReadOnlyList<string> Released { get; set; } = [];
    /// <summary>
    /// Tasks an administrator cancelled: the Task Server disarms their pushes not yet acknowledged and sends <c>task.cancel</c> to agents
    /// that accept it (<c>docs/protocol.md</c> §6). A Task Server of before ignores it.
    /// </summary>
    public IReadOnlyList<TaskServerTaskRef> Cancelled { get; set; } = [];
}

/// <summary>A task the NS hands to a Task Server, without its agents: what <see cref="TaskServerAssignment"/> and <see cref="TaskServerTaskGroup"/> share.</summary>
public abstract record TaskServerTask : ITaskDefinition
{
    public required string ActionId { get; init; }
    public required string Command { get; init; }
    public string? Name { get; init; }
    public IReadOnlyDictionary<string, string>? Parameters { get; init; }
    public int TimeoutSeconds { get; set; } = 300;
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The task's not-after (<see cref="TaskPushMessage.NotAfter"/>); a Task Server of before ignores it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? NotAfter { get; init; }
    /// <summary>Runs outside the agent's maintenance windows (<see cref="TaskPushMessage.Urgent"/>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Urgent { get; init; }
}

/// <summary>One task for one agent. The Task Server numbers it in the agent's <c>ts</c> push sequence.</summary>
public sealed record TaskServerAssignment : TaskServerTask
{
    public required string AgentId { get; init; }
}

/// <summary>One task for several agents (<see cref="TaskServerWork.Groups"/>): the same as one <see cref="TaskServerAssignment"/> per agent, in the list's order.</summary>
public sealed record TaskServerTaskGroup : TaskServerTask
{
    public required IReadOnlyList<string> AgentIds { get; init; }
}

/// <summary>A task of one agent.</summary>
public sealed record TaskServerTaskRef(string ActionId, string AgentId);

/// <summary>Task Server to NS: tasks now stored at the Task Server.</summary>
public sealed record TaskServerAccepted
{
    public required IReadOnlyList<TaskServerTaskRef> Items { get; init; }
}

/// <summary>One task state reported by an agent (or observed by the Task Server: delivered when the agent acknowledged the push).</summary>
public sealed record TaskServerStatusItem
{
    public required string AgentId { get; init; }
    public required string TaskId { get; init; }
    public required TaskState State { get; init; }
    /// <summary><c>persistent</c> or <c>http</c>: how the Task Server delivered the task.</summary>
    public string? Via { get; init; }
    public DateTimeOffset At { get; init; }
}

/// <summary>Task Server to NS: task states.</summary>
public sealed record TaskServerStatusBatch
{
    public required IReadOnlyList<TaskServerStatusItem> Items { get; init; }
}

/// <summary>One agent's result, as the Task Server forwards it.</summary>
public sealed record TaskServerResultItem
{
    public required string AgentId { get; init; }
    /// <summary>A <see cref="TaskResultMessage"/> or <see cref="InventoryResultMessage"/>, kind included.</summary>
    public required Message Result { get; init; }

    /// <summary>
    /// The delivery of the push this result answers, when the agent's acknowledgement of it came with the result (instead of a
    /// <c>delivered</c> status of its own before it); null otherwise. A Notification Server of before ignores it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TaskServerDelivery? Delivered { get; init; }
}

/// <summary>How and when the Task Server delivered a push: <c>persistent</c> or <c>http</c>, and the acknowledgement's time.</summary>
public sealed record TaskServerDelivery(string Via, DateTimeOffset At);

/// <summary>
/// Task Server to NS: task states and results, one request for what the Task Server forwards at once. The NS applies
/// <see cref="Statuses"/> first, then stores <see cref="Items"/> (once per idempotency key).
/// </summary>
public sealed record TaskServerResultBatch
{
    public required IReadOnlyList<TaskServerResultItem> Items { get; init; }

    /// <summary>Task states (delivered, running) to apply before the results; a Task Server of before sends them to <see cref="TaskServerPaths.Status"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public IReadOnlyList<TaskServerStatusItem>? Statuses { get; init; }
}

/// <summary>NS to Task Server: one receipt per stored (or already stored) result; results missing here were refused and are dropped.</summary>
public sealed record TaskServerResultReceipts
{
    public required IReadOnlyList<ResultReceipt> Receipts { get; init; }
    /// <summary>Keys refused for good (unknown agent, malformed): the Task Server drops them.</summary>
    public IReadOnlyList<string> Refused { get; set; } = [];
}

/// <summary>A Task Server as <c>GET /tcm/admin/task-servers</c> lists it.</summary>
public sealed record TaskServerInfoView
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public string? Address { get; init; }
    public string? Site { get; init; }
    public int MaxAgents { get; init; }
    /// <summary>Agents it holds (registered with it).</summary>
    public int RegisteredAgents { get; init; }
    /// <summary>Of those, with a persistent connection now.</summary>
    public int ConnectedAgents { get; init; }
    /// <summary>Whether its long poll is open (it is reachable from the NS).</summary>
    public bool Online { get; init; }
    public DateTimeOffset? LastContact { get; init; }
    /// <summary>The Notification Server node it called last, as the node asked knows (several nodes on one database); null before its first call.</summary>
    public string? Node { get; init; }
}

/// <summary>
/// How agents choose their Task Server, <c>GET/PUT /tcm/admin/task-servers/selection</c>: a method, and for
/// <see cref="TaskServerSelection.OrderedList"/> the Task Server ids in order per site (the agent's <c>site</c> attribute;
/// <c>*</c> for agents of any other site).
/// </summary>
public sealed record TaskServerSelectionSettings
{
    public TaskServerSelection Selection { get; set; } = TaskServerSelection.FewestComputers;
    public IReadOnlyDictionary<string, IReadOnlyList<string>> OrderedBySite { get; set; } = new Dictionary<string, IReadOnlyList<string>>();
}

/// <summary>Action kinds of tasks through Task Servers (<c>POST /tcm/admin/actions/ts-task</c>, same body as a direct task).</summary>
public static class TaskServerActionKinds
{
    /// <summary><see cref="Admin.ActionStatus.Kind"/> of a task pushed through the Task Servers.</summary>
    public const string TsTask = "ts-task";
}
