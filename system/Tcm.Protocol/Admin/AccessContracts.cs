using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tcm.Protocol.Admin;

/// <summary>
/// What an admin key may do, in rising order: each role may do everything the ones below it may.
/// </summary>
public enum AdminRole
{
    /// <summary>Reads everything, changes nothing.</summary>
    [JsonStringEnumMemberName("viewer")]
    Viewer = 0,

    /// <summary>A viewer that also runs actions and terminates agents' connections.</summary>
    [JsonStringEnumMemberName("operator")]
    Operator = 1,

    /// <summary>Everything, among it the keys themselves.</summary>
    [JsonStringEnumMemberName("administrator")]
    Administrator = 2,
}

/// <summary><c>POST /tcm/admin/keys</c>: a new admin key's name (who it is, as the audit trail says) and role.</summary>
public sealed record CreateAdminKeyRequest
{
    public string? Name { get; init; }
    public AdminRole Role { get; init; }
}

/// <summary>An admin key as <c>GET /tcm/admin/keys</c> lists it: never the key, never its hash.</summary>
public sealed record AdminKeyInfo
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public AdminRole Role { get; init; }
    /// <summary>True for the key in <c>admin.key</c> (or <c>--admin-key</c>): the first administrator key, which cannot be revoked here.</summary>
    public bool BuiltIn { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public string? CreatedBy { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public string? RevokedBy { get; init; }
}

/// <summary>The answer to <c>POST /tcm/admin/keys</c>: the key itself, shown this once.</summary>
public sealed record AdminKeyCreated(AdminKeyInfo Info, string Key);

/// <summary><c>GET /tcm/admin/whoami</c>: the name and role of the key (or console session) that asks.</summary>
public sealed record AdminIdentity(string Name, AdminRole Role);

/// <summary>
/// One change an administrator made, <c>GET /tcm/admin/audit</c>: who (the key's name) with which role, when, what kind of
/// change, the request (<c>PUT /profiles/{id}</c>), what it changed, the answer's status, and the values before and after
/// (absent where there is none: nothing before a create, nothing after a delete).
/// </summary>
public sealed record AuditEntry
{
    public long Seq { get; init; }
    public DateTimeOffset At { get; init; }
    public required string Who { get; init; }
    public AdminRole Role { get; init; }
    public required string Kind { get; init; }
    public required string Operation { get; init; }
    public string? Target { get; init; }
    public int Status { get; init; }
    public JsonElement? Before { get; init; }
    public JsonElement? After { get; init; }
}

/// <summary>A page of the audit trail, newest first, and how many entries match the filter in all.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, int Total, int Skip, int Take);
