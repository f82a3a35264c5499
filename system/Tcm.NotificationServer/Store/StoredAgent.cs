using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Store;

/// <summary>
/// An agent's row as the store holds it, with the next push sequence already past every stored push, the node holding its connection and
/// the route its last hello reported.
/// </summary>
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
    string? Node = null,
    string? Route = null);
