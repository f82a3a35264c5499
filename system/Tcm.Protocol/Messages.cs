using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tcm.Protocol;

/// <summary>
/// One channel message: a UTF-8 JSON object in one WebSocket text message, discriminated by <c>kind</c>.
/// The closed set of kinds is listed on this type; <c>docs/protocol.md</c> specifies each.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(HelloMessage), MessageKinds.Hello)]
[JsonDerivedType(typeof(WelcomeMessage), MessageKinds.Welcome)]
[JsonDerivedType(typeof(AckMessage), MessageKinds.Ack)]
[JsonDerivedType(typeof(PolicyPushMessage), MessageKinds.PolicyPush)]
[JsonDerivedType(typeof(TaskPushMessage), MessageKinds.TaskPush)]
[JsonDerivedType(typeof(TaskStatusMessage), MessageKinds.TaskStatus)]
[JsonDerivedType(typeof(TaskResultMessage), MessageKinds.TaskResult)]
[JsonDerivedType(typeof(InventoryRequestMessage), MessageKinds.InventoryRequest)]
[JsonDerivedType(typeof(InventoryResultMessage), MessageKinds.InventoryResult)]
[JsonDerivedType(typeof(HttpRequestMessage), MessageKinds.HttpRequest)]
[JsonDerivedType(typeof(HttpResponseMessage), MessageKinds.HttpResponse)]
[JsonDerivedType(typeof(TerminateMessage), MessageKinds.Terminate)]
[JsonDerivedType(typeof(TaskCancelMessage), MessageKinds.TaskCancel)]
[JsonDerivedType(typeof(ErrorMessage), MessageKinds.Error)]
public abstract record Message;

/// <summary>The <c>kind</c> discriminator values.</summary>
public static class MessageKinds
{
    public const string Hello = "hello";
    public const string Welcome = "welcome";
    public const string Ack = "ack";
    public const string PolicyPush = "policy.push";
    public const string TaskPush = "task.push";
    public const string TaskStatus = "task.status";
    public const string TaskResult = "task.result";
    public const string InventoryRequest = "inventory.request";
    public const string InventoryResult = "inventory.result";
    public const string HttpRequest = "http.request";
    public const string HttpResponse = "http.response";
    public const string Terminate = "terminate";
    public const string Error = "error";
    public const string TaskCancel = "task.cancel";

    /// <summary>Every kind this version knows, for diagnostics.</summary>
    public static readonly IReadOnlyList<string> All =
        [Hello, Welcome, Ack, PolicyPush, TaskPush, TaskStatus, TaskResult, InventoryRequest, InventoryResult, HttpRequest, HttpResponse, Terminate, Error, TaskCancel];
}

/// <summary>Which server a channel goes to: the core agent's Notification Server channel or the Client Task Agent's Task Server channel.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ChannelRole>))]
public enum ChannelRole
{
    /// <summary>Core agent to Notification Server.</summary>
    [JsonStringEnumMemberName("ns")] NotificationServer,
    /// <summary>Client Task Agent to Task Server.</summary>
    [JsonStringEnumMemberName("ts")] TaskServer,
}

/// <summary>Agent to server, first message on a channel.</summary>
public sealed record HelloMessage : Message
{
    /// <summary>The protocol version the agent speaks.</summary>
    public required int ProtocolVersion { get; init; }
    /// <summary>The agent id issued at registration; must match the client certificate's subject.</summary>
    public required string AgentId { get; init; }
    /// <summary>The agent software version, informational.</summary>
    public string? AgentVersion { get; init; }
    /// <summary>Which connection this is.</summary>
    public ChannelRole Role { get; set; } = ChannelRole.NotificationServer;
    /// <summary>Highest push sequence number the agent has received; the server treats everything up to it as acknowledged and re-sends the rest.</summary>
    public long LastReceivedSeq { get; init; }
    /// <summary>The agent's route to the server: <c>direct</c> or <c>cem</c>, informational.</summary>
    public string? Route { get; init; }
    /// <summary>
    /// The agent understands <see cref="TaskCancelMessage"/>. Optional, false when absent: an agent that predates it refuses an unknown
    /// kind by closing the channel, so a server sends <c>task.cancel</c> only to an agent that said this.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool AcceptsTaskCancel { get; init; }
    /// <summary>
    /// The agent applies <see cref="PushMessage.AckKeys"/>, so the server may hold its acknowledgements of stored results and send them
    /// on the next push, or in one <c>ack</c> after a short delay. Optional, false when absent: an agent that does not say so gets an
    /// <c>ack</c> for every result at once.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool AcceptsHeldResultAcks { get; init; }
}

/// <summary>Server to agent, answer to <see cref="HelloMessage"/>.</summary>
public sealed record WelcomeMessage : Message
{
    public required int ProtocolVersion { get; init; }
    public required string AgentId { get; init; }
    /// <summary>Name of the server, as shown in the agent's Network Status.</summary>
    public required string ServerName { get; init; }
    /// <summary>Server-chosen id of this connection, for logs on both sides.</summary>
    public required string ConnectionId { get; init; }
    /// <summary>Largest message the server accepts; the agent must not send larger.</summary>
    public int MaxMessageBytes { get; set; } = ProtocolConstants.DefaultMaxMessageBytes;
    /// <summary>The ETag of the agent's current policy; an agent holding another ETag should request its policy.</summary>
    public string? PolicyEtag { get; init; }
    /// <summary>
    /// The server applies the acknowledgement a result carries (<see cref="TaskResultMessage.AckUpToSeq"/>), so the agent may hold back
    /// its <c>ack</c> of a task push until the task's result. Optional, false when absent (a server that does not say so gets every
    /// <c>ack</c> on its own).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool AcksWithResults { get; init; }
}

/// <summary>
/// Acknowledgement. Agent to server: <see cref="UpToSeq"/> confirms receipt of every push with a lower or equal sequence number.
/// Server to agent: <see cref="Keys"/> confirms that results with these idempotency keys are stored.
/// </summary>
public sealed record AckMessage : Message
{
    public long? UpToSeq { get; set; }
    [JsonConverter(typeof(KeyListConverter))]
    public IReadOnlyList<string>? Keys { get; set; }
}

/// <summary>A server-to-agent message that must be delivered: it carries a per-agent, per-role sequence number.</summary>
public abstract record PushMessage : Message
{
    /// <summary>Per agent and channel role, starting at 1, gap-free, increasing.</summary>
    [JsonRequired]
    public long Seq { get; set; }
    /// <summary>
    /// Optional: results with these idempotency keys are stored, meaning what <see cref="AckMessage.Keys"/> means; sent only to an agent
    /// whose hello said <see cref="HelloMessage.AcceptsHeldResultAcks"/>. Added to the push's bytes as it is written to the channel (it is
    /// the last member, never stored with the push), so it is not part of the push itself: a re-sent push carries the keys held then.
    /// </summary>
    [JsonPropertyOrder(int.MaxValue)]
    [JsonConverter(typeof(KeyListConverter))]
    public IReadOnlyList<string>? AckKeys { get; set; }
}

/// <summary>PushPolicy: the agent's new policy, to apply at once.</summary>
public sealed record PolicyPushMessage : PushMessage
{
    public required PolicyDocument Policy { get; init; }
}

/// <summary>PushTask: run a task now.</summary>
public sealed record TaskPushMessage : PushMessage, ITaskDefinition
{
    [JsonRequired]
    public string TaskId { get; set; } = null!;
    /// <summary>What to run: <c>echo</c>, <c>sleep</c>, <c>inventory</c>, or an executor-specific name.</summary>
    [JsonRequired]
    public string Command { get; set; } = null!;
    public string? Name { get; set; }
    [JsonConverter(typeof(TaskParametersConverter))]
    public IReadOnlyDictionary<string, string>? Parameters { get; set; }
    /// <summary>How long the task may run before the agent reports it timed out.</summary>
    public int TimeoutSeconds { get; set; } = 300;
    /// <summary>When the server created the push (UTC), for delivery-latency measurement.</summary>
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>
    /// Optional: the task must not start after this time (UTC); an agent that gets it later, or whose maintenance window opens later,
    /// does not run it and reports <see cref="TaskState.Expired"/>. Null: no limit.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? NotAfter { get; set; }
    /// <summary>Optional: run at once, even outside the agent's maintenance windows (<see cref="AgentSettings.MaintenanceWindows"/>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Urgent { get; set; }
}

/// <summary>Task states an agent reports.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TaskState>))]
public enum TaskState
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("delivered")] Delivered,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("timed-out")] TimedOut,
    /// <summary>Not run: its not-after passed before it could start (<see cref="TaskPushMessage.NotAfter"/>).</summary>
    [JsonStringEnumMemberName("expired")] Expired,
    /// <summary>Stopped or not run: an administrator cancelled its action (<see cref="TaskCancelMessage"/>).</summary>
    [JsonStringEnumMemberName("cancelled")] Cancelled,
    /// <summary>A target's state on the server only, never on the wire: its wave was not sent because the action's brake stopped the waves.</summary>
    [JsonStringEnumMemberName("not-sent")] NotSent,
}

/// <summary>Agent to server: progress of a task.</summary>
public sealed record TaskStatusMessage : Message
{
    [JsonRequired]
    public string TaskId { get; set; } = null!;
    [JsonRequired]
    public TaskState State { get; set; }
    public string? Detail { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>Agent to server: the outcome of a task. Stored once per <see cref="IdempotencyKey"/>; the server answers with an <see cref="AckMessage"/> naming the key.</summary>
public sealed record TaskResultMessage : Message
{
    [JsonRequired]
    public string TaskId { get; set; } = null!;
    /// <summary><c>{agentId}:{taskId}</c> by convention; unique per result.</summary>
    [JsonRequired]
    public string IdempotencyKey { get; set; } = null!;
    /// <summary><see cref="TaskState.Succeeded"/>, <see cref="TaskState.Failed"/>, <see cref="TaskState.TimedOut"/>, <see cref="TaskState.Expired"/> or <see cref="TaskState.Cancelled"/>.</summary>
    [JsonRequired]
    public TaskState State { get; set; }
    public int ExitCode { get; set; }
    public string? Output { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset FinishedAt { get; set; }
    /// <summary>
    /// Optional: a cumulative acknowledgement riding with the result, meaning what <see cref="AckMessage.UpToSeq"/> means; sent only to a
    /// server whose welcome said <see cref="WelcomeMessage.AcksWithResults"/>, so the push, the result and the two acknowledgements
    /// take three messages instead of four. A server that does not know it ignores it.
    /// </summary>
    public long? AckUpToSeq { get; set; }
}

/// <summary>Server to agent: collect inventory now (on-demand inventory).</summary>
public sealed record InventoryRequestMessage : PushMessage
{
    public required string RequestId { get; init; }
    /// <summary>Inventory classes wanted; empty means basic inventory.</summary>
    public IReadOnlyList<string>? Classes { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Agent to server: the answer to an <see cref="InventoryRequestMessage"/>. Stored once per key, acknowledged like a task result.</summary>
public sealed record InventoryResultMessage : Message
{
    public required string RequestId { get; init; }
    public required string IdempotencyKey { get; init; }
    public required BasicInventory Inventory { get; init; }
}

/// <summary>
/// An ordinary agent HTTP request carried over the channel instead of a new HTTP round trip.
/// Either side may send one; the peer answers with an <see cref="HttpResponseMessage"/> of the same <see cref="Id"/>.
/// </summary>
public sealed record HttpRequestMessage : Message
{
    /// <summary>Correlates the response; unique among the sender's requests in flight.</summary>
    public required long Id { get; init; }
    public required string Method { get; init; }
    /// <summary>Path and query, e.g. <c>/tcm/agent/policy</c>.</summary>
    public required string Path { get; init; }
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
    /// <summary>The body as JSON, when there is one.</summary>
    public JsonElement? Body { get; init; }
}

/// <summary>The answer to an <see cref="HttpRequestMessage"/>.</summary>
public sealed record HttpResponseMessage : Message
{
    public required long Id { get; init; }
    public required int Status { get; init; }
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
    public JsonElement? Body { get; init; }
}

/// <summary>Server to agent: close this persistent connection. The agent closes, works over HTTP, and reconnects after <see cref="ReconnectAfterSeconds"/>.</summary>
public sealed record TerminateMessage : Message
{
    public required string Reason { get; init; }
    public int ReconnectAfterSeconds { get; set; } = 60;
}

/// <summary>
/// Server to agent: stop the task <see cref="TaskId"/> if it runs, and do not start it if it waits (for its maintenance window); the agent
/// reports it <see cref="TaskState.Cancelled"/>. Not a push (no sequence number, not stored): sent once, over an open channel, and only to
/// an agent whose hello said <see cref="HelloMessage.AcceptsTaskCancel"/>. A task the agent does not know, or that already ended, is ignored.
/// </summary>
public sealed record TaskCancelMessage : Message
{
    /// <summary>The <see cref="Reason"/> of an administrator's cancel, and the output of the task the agent stopped.</summary>
    public const string ByAdministrator = "cancelled by an administrator";

    public required string TaskId { get; init; }
    /// <summary>Why, for the agent's log.</summary>
    public string? Reason { get; init; }
}

/// <summary>Either side: something went wrong. When <see cref="Fatal"/>, the sender closes the channel after it.</summary>
public sealed record ErrorMessage : Message
{
    /// <summary>One of <see cref="CloseReasons"/>, or another short machine-readable code.</summary>
    public required string Code { get; init; }
    public required string Detail { get; init; }
    public bool Fatal { get; init; }
}
