using Microsoft.AspNetCore.Http;
using Tcm.Hosting.Admin;
using Tcm.Protocol;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// Requires the admin key in <c>X-Tcm-Admin-Key</c> or <c>Authorization: Bearer</c>; answers 401
/// <c>admin-key-required</c> otherwise. The comparison takes the same time whatever the key.
/// The admin console's session cookie stands in for the key (<see cref="ConsoleSessions"/>); with it, a state-changing
/// request must also carry the console's header, else 403 <c>console-header-required</c> (CSRF guard).
/// </summary>
internal sealed class AdminKeyFilter(AdminKey key, ConsoleSessions sessions) : IEndpointFilter
{
    /// <summary>The refusal code.</summary>
    public const string KeyRequired = "admin-key-required";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = AdminKey.Presented(context.HttpContext.Request);
        if (!key.Matches(presented))
        {
            switch (sessions.Check(context.HttpContext))
            {
                case ConsoleSessionCheck.Valid:
                    return next(context);
                case ConsoleSessionCheck.MissingHeader:
                    return ValueTask.FromResult<object?>(AdminResults.Error(
                        StatusCodes.Status403Forbidden, "console-header-required", $"a console request that changes something must carry the {ConsoleSessions.HeaderName} header"));
            }

            context.HttpContext.Response.Headers[Agents.AgentApiResponse.RefusalHeader] = KeyRequired;
            var body = new ErrorBody
            {
                Code = KeyRequired,
                Detail = $"send the admin API key in the {ProtocolConstants.AdminKeyHeader} header or as 'Authorization: Bearer <key>'",
            };
            return ValueTask.FromResult<object?>(Results.Json(body, ProtocolJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status401Unauthorized));
        }

        return next(context);
    }
}
