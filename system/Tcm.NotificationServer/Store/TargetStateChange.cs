namespace Tcm.NotificationServer.Store;

/// <summary>
/// A target's row of <c>action_targets</c> as a write that changed its state left it (captured by the store's trigger,
/// <see cref="TcmStore.WatchTargetStates"/>). <see cref="State"/> is the text the row holds, whatever it is; <see cref="Output"/>
/// is cut at <see cref="TcmStore.ChangeOutputLimit"/> characters, <see cref="OutputTruncated"/> says whether it was.
/// </summary>
internal sealed record TargetStateChange(
    string ActionId,
    string AgentId,
    string State,
    string? DeliveredVia,
    long? DeliveredAtMs,
    long? CompletedAtMs,
    long? ExitCode,
    string? Output,
    bool OutputTruncated,
    long ResultCount);
