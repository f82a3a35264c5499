using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tcm.NotificationServer.ActionStreams;

/// <summary>
/// The data of an event stream's <c>target</c> event: one target of an action as the change left it. <see cref="State"/> is
/// the state the server stored (pending, delivered, running, succeeded, failed, timed-out, or any state a newer server adds);
/// <see cref="Output"/> is at most 1,024 characters (<see cref="OutputTruncated"/>: the action's GET has all of it).
/// </summary>
internal sealed record ActionTargetEvent
{
    public required string ActionId { get; init; }

    public required string AgentId { get; init; }

    public required string ComputerName { get; init; }

    public required string State { get; init; }

    public string? DeliveredVia { get; init; }

    public DateTimeOffset? DeliveredAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public long? ExitCode { get; init; }

    public string? Output { get; init; }

    public bool OutputTruncated { get; init; }

    public long ResultCount { get; init; }
}

/// <summary>The data of a <c>reset</c> event: the stream cannot replay what the client missed, and why.</summary>
internal sealed record ActionStreamReset(string Reason);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ActionTargetEvent))]
[JsonSerializable(typeof(ActionStreamReset))]
internal sealed partial class ActionStreamJsonContext : JsonSerializerContext;
