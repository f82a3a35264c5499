using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tcm.NotificationServer.ActionStreams;

/// <summary>
/// The data of an event stream's <c>target</c> event: one target of an action as the change left it. <see cref="State"/> is
/// the state the server stored (pending, delivered, running, succeeded, failed, timed-out, or any state a newer server adds);
/// <see cref="Output"/> is at most 1,024 characters (<see cref="OutputTruncated"/>: the action's GET has all of it).
/// </summary>
internal sealed record ActionTargetEvent(
    string ActionId, string AgentId, string ComputerName, string State, string? DeliveredVia, DateTimeOffset? DeliveredAt,
    DateTimeOffset? CompletedAt, long? ExitCode, string? Output, bool OutputTruncated, long ResultCount);

/// <summary>The data of a <c>reset</c> event: the stream cannot replay what the client missed, and why.</summary>
internal sealed record ActionStreamReset(string Reason);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ActionTargetEvent))]
[JsonSerializable(typeof(ActionStreamReset))]
internal sealed partial class ActionStreamJsonContext : JsonSerializerContext;
