using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tcm.Protocol;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// Requires the admin key in <c>X-Tcm-Admin-Key</c> or <c>Authorization: Bearer</c>; answers 401
/// <c>admin-key-required</c> otherwise. The comparison takes the same time whatever the key.
/// The admin console's session cookie stands in for the key (<see cref="ConsoleSessions"/>); with it, a state-changing
/// request must also carry the console's header, else 403 <c>console-header-required</c> (CSRF guard).
/// </summary>
internal sealed class AdminKeyFilter(NotificationServerInfo info, ConsoleSessions sessions) : IEndpointFilter
{
    /// <summary>The refusal code.</summary>
    public const string KeyRequired = "admin-key-required";

    private byte[]? _expectedHash;

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        string? presented = request.Headers[ProtocolConstants.AdminKeyHeader];
        if (string.IsNullOrEmpty(presented))
        {
            string? authorization = request.Headers.Authorization;
            if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                presented = authorization["Bearer ".Length..].Trim();
            }
        }

        if (!IsValid(presented))
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

    /// <summary>Whether this is the admin key (constant time).</summary>
    public bool IsValid(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        // why: hashing both sides gives equal lengths, so FixedTimeEquals leaks neither the key nor its length.
        var expected = _expectedHash ??= SHA256.HashData(Encoding.UTF8.GetBytes(info.AdminApiKey));
        return CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
    }
}
