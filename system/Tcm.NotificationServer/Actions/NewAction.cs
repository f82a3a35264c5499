namespace Tcm.NotificationServer.Actions;

/// <summary>
/// An action about to be created: its id, its kind (<c>task</c>, <c>policy</c>, <c>inventory</c>, <c>ts-task</c>) and the admin request that
/// made it; <paramref name="NotAfter"/>: targets still pending then become expired (null: never).
/// </summary>
internal sealed record NewAction(string Id, string Kind, string? RequestJson, DateTimeOffset? NotAfter = null);
