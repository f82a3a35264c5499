using Tcm.Hosting.Admin;
using Tcm.NotificationServer.Audit;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// The admin API's door, on every admin route group. It requires a key of the <see cref="AdminKeyRing"/> in
/// <c>X-Tcm-Admin-Key</c> or <c>Authorization: Bearer</c> (401 <c>admin-key-required</c> otherwise), or the console's session cookie
/// (<see cref="ConsoleSessions"/>; with it a state-changing request must also carry the console's header, else 403
/// <c>console-header-required</c>: CSRF guard). It then checks the key's role against the endpoint's <see cref="AdminAccess"/>
/// (403 <c>role-forbidden</c>, saying which role the call needs) and, after a call that changed something and answered with success,
/// records it in the <see cref="AuditTrail"/>: who, when, the kind, the request, and what the endpoint noted (<see cref="AuditNote"/>).
/// </summary>
internal sealed partial class AdminKeyFilter(AdminKeyRing keys, ConsoleSessions sessions, AuditTrail audit, TimeProvider time, ILogger<AdminKeyFilter> logger)
    : IEndpointFilter
{
    /// <summary>The refusal code of a request without a key.</summary>
    public const string KeyRequired = AdminKey.KeyRequired;

    /// <summary>The refusal code of a key whose role may not make the call.</summary>
    public const string RoleForbidden = "role-forbidden";

    private const string AdminPrefix = TcmPaths.Admin;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var caller = keys.Identify(AdminKey.Presented(http.Request));
        if (caller is null)
        {
            switch (sessions.Check(http, out var sessionCaller))
            {
                case ConsoleSessionCheck.Valid when keys.IsActive(sessionCaller!.KeyId):
                    caller = sessionCaller;
                    break;
                case ConsoleSessionCheck.MissingHeader:
                    return AdminResults.Error(
                        StatusCodes.Status403Forbidden, "console-header-required", $"a console request that changes something must carry the {ConsoleSessions.HeaderName} header");
                default:
                    return AdminKey.Refusal(http, AdminKey.HeaderDetail);
            }
        }

        var method = http.Request.Method;
        var access = AdminAccess.Of(http.GetEndpoint(), method);
        if (caller.Role < access.Role)
        {
            return AdminResults.Error(StatusCodes.Status403Forbidden, RoleForbidden,
                $"the key '{caller.Name}' has the role {AdminAccess.Describe(caller.Role)}; {method} {Operation(http)} needs the role {AdminAccess.Describe(access.Role)}");
        }

        http.Features.Set(caller);
        var result = await next(context);
        if (!AdminAccess.IsReading(method) && access.AuditKind != AdminAccess.NotAudited && StatusOf(result, http) is >= 200 and < 300 and var status)
        {
            await RecordAsync(http, caller, access, method, status);
        }

        return result;
    }

    private async Task RecordAsync(HttpContext http, AdminCaller caller, AdminAccess access, string method, int status)
    {
        var operation = Operation(http);
        var note = http.Features.Get<AuditNote>();
        var kind = access.AuditKind ?? operation.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "admin";
        var target = note?.Target ?? (http.Request.RouteValues.Count == 0 ? null : string.Join('/', http.Request.RouteValues.Values));
        var record = new AuditRecord(time.GetUtcNow(), caller.Name, caller.Role, kind, $"{method} {operation}", target, status, note?.Before, note?.After);
        try
        {
            // why: the change has happened; it is recorded even when the caller has gone away meanwhile.
            await audit.RecordAsync(record, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.NotRecorded(logger, ex, record.Who, record.Operation, record.Target);
            throw;
        }
    }

    /// <summary>The route of the request under the admin API (<c>/profiles/{id}</c>), else its path.</summary>
    private static string Operation(HttpContext http)
    {
        var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path.Value ?? "";
        return route.StartsWith(AdminPrefix, StringComparison.Ordinal) ? route[AdminPrefix.Length..] : route;
    }

    private static int StatusOf(object? result, HttpContext http) =>
        (result as IStatusCodeHttpResult)?.StatusCode ?? (result is null ? http.Response.StatusCode : StatusCodes.Status200OK);

    private static partial class Log
    {
        [LoggerMessage(EventId = 630, Level = LogLevel.Error, Message = "The audit trail could not record {Who}'s {Operation} on {Target}; the change itself was made")]
        public static partial void NotRecorded(ILogger logger, Exception exception, string who, string operation, string? target);
    }
}
