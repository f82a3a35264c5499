using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tcm.Protocol;

namespace Tcm.Hosting.Admin;

/// <summary>
/// The server's admin key (<see cref="TcmServerOptions.AdminApiKey"/>, or the one generated into the data folder) and the one
/// way a request presents it: the <c>X-Tcm-Admin-Key</c> header or <c>Authorization: Bearer</c>. The comparison takes the
/// same time whatever the key.
/// </summary>
public sealed class AdminKey
{
    /// <summary>The refusal code of a request without the key.</summary>
    public const string KeyRequired = "admin-key-required";

    /// <summary>The refusal header every server answers with.</summary>
    public const string RefusalHeader = "X-Tcm-Refusal";

    private readonly byte[] _expectedHash;

    /// <summary>Holds <paramref name="value"/>.</summary>
    public AdminKey(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        Value = value;
        _expectedHash = SHA256.HashData(Encoding.UTF8.GetBytes(value));
    }

    /// <summary>The key.</summary>
    public string Value { get; }

    /// <summary>The key the request presents in <c>X-Tcm-Admin-Key</c> or <c>Authorization: Bearer</c>, or null.</summary>
    public static string? Presented(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? presented = request.Headers[ProtocolConstants.AdminKeyHeader];
        if (string.IsNullOrEmpty(presented) && request.Headers.Authorization.ToString() is { } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }

        return string.IsNullOrEmpty(presented) ? null : presented;
    }

    /// <summary>Whether <paramref name="presented"/> is this key.</summary>
    public bool IsValid(string? presented) =>
        // why: hashing both sides gives equal lengths, so FixedTimeEquals leaks neither the key nor its length.
        !string.IsNullOrEmpty(presented) && CryptographicOperations.FixedTimeEquals(_expectedHash, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    /// <summary>Whether the request presents this key.</summary>
    public bool IsPresentedBy(HttpRequest request) => IsValid(Presented(request));

    /// <summary>The 401 answer to a request without the key: <c>X-Tcm-Refusal: admin-key-required</c> and an <see cref="ErrorBody"/>.</summary>
    public static IResult Refusal(HttpContext context, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers[RefusalHeader] = KeyRequired;
        return Results.Json(new ErrorBody { Code = KeyRequired, Detail = detail }, ProtocolJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status401Unauthorized);
    }

    /// <summary>The detail of <see cref="Refusal"/> when only the header or bearer is accepted.</summary>
    public static string HeaderDetail => $"send the admin key in the {ProtocolConstants.AdminKeyHeader} header or as 'Authorization: Bearer <key>'";
}

/// <summary>Requires the server's <see cref="AdminKey"/> on a route group (the Task Server's admin endpoints).</summary>
public sealed class AdminKeyFilter(AdminKey key) : IEndpointFilter
{
    /// <inheritdoc/>
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        return key.IsPresentedBy(context.HttpContext.Request)
            ? next(context)
            : ValueTask.FromResult<object?>(AdminKey.Refusal(context.HttpContext, AdminKey.HeaderDetail));
    }
}

/// <summary>Requires the server's <see cref="AdminKey"/> in a branch of the pipeline (endpoints that are not route handlers, e.g. <c>/metrics</c>).</summary>
public static class AdminKeyMiddleware
{
    /// <summary>Answers 401 to a request without the key; passes the others on.</summary>
    public static IApplicationBuilder UseAdminKey(this IApplicationBuilder branch, AdminKey key)
    {
        ArgumentNullException.ThrowIfNull(branch);
        ArgumentNullException.ThrowIfNull(key);
        return branch.Use(next => context => key.IsPresentedBy(context.Request)
            ? next(context)
            : AdminKey.Refusal(context, AdminKey.HeaderDetail).ExecuteAsync(context));
    }
}
