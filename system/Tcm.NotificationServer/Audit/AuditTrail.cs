using System.Text.Json;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Audit;

/// <summary>One change as the trail keeps it; <see cref="Before"/> and <see cref="After"/> are JSON, or null where there is none.</summary>
internal sealed record AuditRecord(
    DateTimeOffset At, string Who, AdminRole Role, string Kind, string Operation, string? Target, int Status, string? Before, string? After);

/// <summary>What <c>GET /tcm/admin/audit</c> asks for: a time range (from inclusive, to exclusive), who, kind, and the page.</summary>
internal sealed record AuditQuery(DateTimeOffset? From, DateTimeOffset? To, string? Who, string? Kind, int Skip, int Take);

/// <summary>
/// The audit trail in the store's <c>audit</c> table: appended by the admin API after each change it answers with success (never
/// by anything an agent calls), read newest first. It survives restarts with the store.
/// </summary>
internal sealed class AuditTrail(TcmStore store)
{
    /// <summary>Appends <paramref name="record"/>; returns once it is committed.</summary>
    public Task RecordAsync(AuditRecord record, CancellationToken ct) =>
        store.Writer.WriteAsync(ctx => ctx.Execute(
            "INSERT INTO audit(at, who, role, kind, operation, target, status, before, after) VALUES(@p0,@p1,@p2,@p3,@p4,@p5,@p6,@p7,@p8)",
            record.At.ToUnixTimeMilliseconds(), record.Who, RoleName(record.Role), record.Kind, record.Operation, record.Target, record.Status,
            record.Before, record.After), ct);

    /// <summary>The entries <paramref name="query"/> selects, newest first, with how many match in all.</summary>
    public AuditPage Page(AuditQuery query)
    {
        var (where, args) = Filter(query, store);
        var total = store.Query($"SELECT COUNT(*) FROM audit{where}", r => r.GetInt32(0), args).Single();
        var items = store.Query(
            $"SELECT seq, at, who, role, kind, operation, target, status, before, after FROM audit{where} ORDER BY seq DESC LIMIT {query.Take} OFFSET {query.Skip}",
            static r => new AuditEntry
            {
                Seq = r.GetInt64(0),
                At = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)),
                Who = r.GetString(2),
                Role = ParseRole(r.GetString(3)),
                Kind = r.GetString(4),
                Operation = r.GetString(5),
                Target = r.IsDBNull(6) ? null : r.GetString(6),
                Status = r.GetInt32(7),
                Before = r.IsDBNull(8) ? null : Json(r.GetString(8)),
                After = r.IsDBNull(9) ? null : Json(r.GetString(9)),
            },
            args);
        return new AuditPage(items, total, query.Skip, query.Take);
    }

    /// <summary>How the store writes a role (the API's own word for it).</summary>
    public static string RoleName(AdminRole role) => role switch
    {
        AdminRole.Administrator => "administrator",
        AdminRole.Operator => "operator",
        _ => "viewer",
    };

    /// <summary>The role the store wrote as <paramref name="name"/>; anything unknown reads as the least, a viewer.</summary>
    public static AdminRole ParseRole(string name) => name switch
    {
        "administrator" => AdminRole.Administrator,
        "operator" => AdminRole.Operator,
        _ => AdminRole.Viewer,
    };

    private static (string Where, object?[] Args) Filter(AuditQuery query, TcmStore store)
    {
        var clauses = new List<string>();
        var args = new List<object?>();
        void Add(string clause, object value)
        {
            clauses.Add(clause.Replace("@p", "@p" + args.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
            args.Add(value);
        }

        if (query.From is { } from)
        {
            Add("at >= @p", from.ToUnixTimeMilliseconds());
        }

        if (query.To is { } to)
        {
            Add("at < @p", to.ToUnixTimeMilliseconds());
        }

        if (!string.IsNullOrEmpty(query.Who))
        {
            Add(store.EqualsIgnoringCase("who", "@p"), query.Who);
        }

        if (!string.IsNullOrEmpty(query.Kind))
        {
            Add("kind = @p", query.Kind);
        }

        return (clauses.Count == 0 ? "" : " WHERE " + string.Join(" AND ", clauses), [.. args]);
    }

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
