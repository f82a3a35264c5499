using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Store;

/// <summary>An agent's row as the store holds it, with the next push sequence already past every stored push, and the node holding its connection.</summary>
internal sealed record StoredAgent(
    string Id,
    string ComputerName,
    string? Domain,
    string? OsName,
    IReadOnlyDictionary<string, string> Attributes,
    DateTimeOffset RegisteredAt,
    NetworkStatus? NetworkStatus,
    long NextSeq,
    long AckedSeq,
    long? LastContactMs,
    string? Node = null);
