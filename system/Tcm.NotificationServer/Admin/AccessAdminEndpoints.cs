using System.Globalization;
using Tcm.NotificationServer.Audit;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// The admin API over access itself: who is calling (<c>GET /whoami</c>), the admin keys (<c>GET/POST /keys</c>,
/// <c>DELETE /keys/{idOrName}</c>, administrators only) and the audit trail (<c>GET /audit</c>, every role).
/// </summary>
internal static class AccessAdminEndpoints
{
    public static void MapAccess(this RouteGroupBuilder admin)
    {
        admin.MapGet("/whoami", (HttpContext context) =>
        {
            var caller = context.AdminCaller();
            return Ok(new AdminIdentity(caller.Name, caller.Role), ProtocolJsonContext.Default.AdminIdentity);
        })
            .WithName("WhoAmI").WithSummary("The name and role of the key (or console session) that calls.").Produces<AdminIdentity>();

        MapKeys(admin);

        admin.MapGet("/audit", (HttpRequest request, AuditTrail audit) =>
        {
            var (query, problem) = ReadQuery(request);
            return query is null ? BadRequest(problem!) : Ok(audit.Page(query), ProtocolJsonContext.Default.AuditPage);
        })
            .WithName("GetAuditTrail")
            .WithSummary("Administrators' changes, newest first: from/to (ISO 8601, to exclusive), who (a key's name), kind, skip, take up to 500.")
            .Produces<AuditPage>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);
    }

    private static void MapKeys(RouteGroupBuilder admin)
    {
        admin.MapGet("/keys", (AdminKeyRing keys) => Ok(keys.List(), ProtocolJsonContext.Default.IReadOnlyListAdminKeyInfo))
            .WithName("ListAdminKeys").WithSummary("The admin keys: names, roles, who added and revoked them (never a key).")
            .WithAdminAccess(AdminRole.Administrator).Produces<IReadOnlyList<AdminKeyInfo>>();

        admin.MapPost("/keys", async (HttpRequest request, AdminKeyRing keys) =>
        {
            var (body, error) = await ReadAsync(request, ProtocolJsonContext.Default.CreateAdminKeyRequest);
            if (error is not null)
            {
                return error;
            }

            if (!Enum.IsDefined(body!.Role))
            {
                return BadRequest("role: administrator, operator or viewer");
            }

            var (info, key, problem) = await keys.AddAsync(body.Name ?? "", body.Role, request.HttpContext.AdminCaller(), request.HttpContext.RequestAborted);
            if (problem is { } refusal)
            {
                return refusal.Conflict ? Error(StatusCodes.Status409Conflict, "conflict", refusal.Detail) : BadRequest(refusal.Detail);
            }

            request.HttpContext.AuditChange(info!.Name, null, info, ProtocolJsonContext.Default.AdminKeyInfo);
            return Created($"{TcmPaths.Admin}/keys/{info.Id}", new AdminKeyCreated(info, key!), ProtocolJsonContext.Default.AdminKeyCreated);
        })
            .WithName("AddAdminKey").WithSummary("Adds an admin key with a role (administrator, operator, viewer); the answer shows the key once.")
            .WithAdminAccess(AdminRole.Administrator, AuditKinds.Key)
            .Accepts<CreateAdminKeyRequest>(Json).Produces<AdminKeyCreated>(StatusCodes.Status201Created)
            .Produces<ErrorBody>(StatusCodes.Status400BadRequest).Produces<ErrorBody>(StatusCodes.Status409Conflict);

        admin.MapDelete("/keys/{idOrName}", async (string idOrName, HttpContext context, AdminKeyRing keys) =>
        {
            var (outcome, before, after) = await keys.RevokeAsync(idOrName, context.AdminCaller(), context.RequestAborted);
            switch (outcome)
            {
                case KeyRevocation.Revoked:
                    context.AuditChange(before!.Name, before, after, ProtocolJsonContext.Default.AdminKeyInfo);
                    return Results.NoContent();
                case KeyRevocation.BuiltIn:
                    return Error(StatusCodes.Status409Conflict, "built-in-key",
                        "admin.key is the server's first administrator key: replace the file in the data folder (or --admin-key) and restart the server");
                case KeyRevocation.AlreadyRevoked:
                    return Error(StatusCodes.Status409Conflict, "conflict", $"the key '{before!.Name}' was revoked at {before.RevokedAt:u} by {before.RevokedBy}");
                default:
                    return NotFound($"there is no admin key with the id or name '{idOrName}'");
            }
        })
            .WithName("RevokeAdminKey").WithSummary("Revokes an admin key (by id or name): calls with it are refused from now on.")
            .WithAdminAccess(AdminRole.Administrator, AuditKinds.Key)
            .Produces(StatusCodes.Status204NoContent).Produces<ErrorBody>(StatusCodes.Status404NotFound).Produces<ErrorBody>(StatusCodes.Status409Conflict);
    }

    private static (AuditQuery? Query, string? Problem) ReadQuery(HttpRequest request)
    {
        var q = request.Query;
        if (!TryInt(q["skip"], 0, 0, int.MaxValue, out var skip))
        {
            return (null, "skip: must be an integer of 0 or more");
        }

        if (!TryInt(q["take"], 100, 1, 500, out var take))
        {
            return (null, "take: must be an integer between 1 and 500");
        }

        DateTimeOffset? from = null, to = null;
        foreach (var (name, set) in new (string, Action<DateTimeOffset>)[] { ("from", v => from = v), ("to", v => to = v) })
        {
            if (q[name].ToString() is { Length: > 0 } text)
            {
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
                {
                    return (null, $"{name}: an ISO 8601 time, e.g. 2026-12-06T14:30:00Z");
                }

                set(value);
            }
        }

        var who = q["who"].ToString();
        var kind = q["kind"].ToString();
        return (new AuditQuery(from, to, who.Length == 0 ? null : who, kind.Length == 0 ? null : kind, skip, take), null);
    }
}
