using Tcm.Hosting.Admin;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// Requires the admin key in <c>X-Tcm-Admin-Key</c> or <c>Authorization: Bearer</c>; answers 401
/// <c>admin-key-required</c> otherwise. The comparison takes the same time whatever the key.
/// The admin console's session cookie stands in for the key (<see cref="ConsoleSessions"/>); with it, a state-changing
/// request must also carry the console's header, else 403 <c>console-header-required</c> (CSRF guard).
/// </summary>
internal sealed class AdminKeyFilter(Tcm.Hosting.Admin.AdminKey key, ConsoleSessions sessions) : IEndpointFilter
{
    /// <summary>The refusal code.</summary>
    public const string KeyRequired = Tcm.Hosting.Admin.AdminKey.KeyRequired;

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (!key.IsPresentedBy(context.HttpContext.Request))
        {
            switch (sessions.Check(context.HttpContext))
            {
                case ConsoleSessionCheck.Valid:
                    return next(context);
                case ConsoleSessionCheck.MissingHeader:
                    return ValueTask.FromResult<object?>(AdminResults.Error(
                        StatusCodes.Status403Forbidden, "console-header-required", $"a console request that changes something must carry the {ConsoleSessions.HeaderName} header"));
            }

            return ValueTask.FromResult<object?>(Tcm.Hosting.Admin.AdminKey.Refusal(context.HttpContext, Tcm.Hosting.Admin.AdminKey.HeaderDetail));
        }

        return next(context);
    }

    /// <summary>Whether this is the admin key (constant time).</summary>
    public bool IsValid(string? presented) => key.IsValid(presented);
}
