using System.Text.Json.Serialization.Metadata;
using Tcm.Hosting.Admin;
using Tcm.NotificationServer.Audit;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// An admin endpoint's access, as endpoint metadata that <see cref="AdminKeyFilter"/> reads: the least role that may call it, and
/// the kind under which the audit trail records a successful call that changes something (<see cref="AuditKinds"/>;
/// <see cref="NotAudited"/> for none). An endpoint without it: <c>GET</c>/<c>HEAD</c> need a viewer, anything else an
/// administrator, and a change is recorded under the first segment of its path.
/// </summary>
internal sealed record AdminAccess(AdminRole Role, string? AuditKind = null)
{
    /// <summary>The kind of an endpoint whose calls change nothing worth recording (signing out of the console).</summary>
    public const string NotAudited = "";

    /// <summary>The access of <paramref name="endpoint"/>, its own or the default for <paramref name="method"/>.</summary>
    public static AdminAccess Of(Endpoint? endpoint, string method) =>
        endpoint?.Metadata.GetMetadata<AdminAccess>() ?? (IsReading(method) ? new AdminAccess(AdminRole.Viewer) : new AdminAccess(AdminRole.Administrator));

    /// <summary>Whether a request with <paramref name="method"/> only reads.</summary>
    public static bool IsReading(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);

    /// <summary>The words a refusal uses for what each role may do.</summary>
    public static string Describe(AdminRole role) => role switch
    {
        AdminRole.Administrator => "administrator (everything)",
        AdminRole.Operator => "operator (run actions and terminate connections, read everything)",
        _ => "viewer (read only)",
    };
}

/// <summary>What an admin endpoint tells the audit trail about its change: the thing changed, and its values before and after (JSON).</summary>
internal sealed class AuditNote
{
    public string? Target { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }
}

/// <summary>How endpoints declare their access and describe their changes.</summary>
internal static class AdminAccessExtensions
{
    /// <summary>
    /// The one annotation an admin endpoint (or a whole route group) needs: the least <paramref name="role"/> that may call it and the
    /// <paramref name="auditKind"/> its changes are recorded under.
    /// </summary>
    public static TBuilder WithAdminAccess<TBuilder>(this TBuilder builder, AdminRole role, string? auditKind = null)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new AdminAccess(role, auditKind));

    /// <summary>The caller of this admin request (set by <see cref="AdminKeyFilter"/>).</summary>
    public static AdminCaller AdminCaller(this HttpContext context) =>
        context.Features.Get<AdminCaller>() ?? throw new InvalidOperationException("The request did not pass the admin key filter.");

    /// <summary>The note this request leaves for the audit trail.</summary>
    public static AuditNote Audit(this HttpContext context)
    {
        if (context.Features.Get<AuditNote>() is not { } note)
        {
            note = new AuditNote();
            context.Features.Set(note);
        }

        return note;
    }

    /// <summary>Notes the change of <paramref name="target"/> from <paramref name="before"/> to <paramref name="after"/> (null: none).</summary>
    public static void AuditChange<T>(this HttpContext context, string? target, T? before, T? after, JsonTypeInfo<T> json)
        where T : class
    {
        var note = context.Audit();
        note.Target = target ?? note.Target;
        note.Before = before is null ? null : TcmStore.Serialize(before, json);
        note.After = after is null ? null : TcmStore.Serialize(after, json);
    }
}
