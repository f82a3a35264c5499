namespace Tcm.NotificationServer.Actions;

/// <summary>
/// A report that an action reached an agent (<see cref="TaskState.Delivered"/>) or started there (<see cref="TaskState.Running"/>).
/// <see cref="Via"/> and <see cref="AtMs"/> fill the target's first delivery when it has none yet; null leaves it as it is.
/// </summary>
internal readonly record struct TargetProgress(string ActionId, string AgentId, TaskState State, string? Via = null, long? AtMs = null);
