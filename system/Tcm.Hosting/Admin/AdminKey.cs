using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tcm.Hosting.Data;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Hosting.Admin;

/// <summary>Who calls the admin API: the name of the key presented (as the audit trail records it), its role, and the key's id.</summary>
public sealed record AdminCaller(string Name, AdminRole Role, string KeyId);

/// <summary>
/// The admin keys a server accepts. A Task Server and a gateway accept their <see cref="AdminKey"/> alone; the Notification
/// Server adds keys with roles that an administrator manages.
/// </summary>
public interface IAdminKeyRing
{
    /// <summary>The caller <paramref name="presentedKey"/> belongs to, or null when it is no key of this server.</summary>
    AdminCaller? Identify(string? presentedKey);
}

/// <summary>
/// The server's admin key (<see cref="TcmServerOptions.AdminApiKey"/>, or the one generated into the data folder) and the one
/// way a request presents it: the <c>X-Tcm-Admin-Key</c> header or <c>Authorization: Bearer</c>. The comparison takes the
/// same time whatever the key. It is the server's first administrator key (<see cref="Caller"/>).
/// </summary>
public sealed class AdminKey : IAdminKeyRing
{
    /// <summary>The name and id the key in <c>admin.key</c> has in the audit trail and the list of keys.</summary>
    public const string BuiltInName = DataFolder.AdminKeyFile;

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

    /// <summary>The caller this key makes: <see cref="BuiltInName"/>, an administrator.</summary>
    public static AdminCaller Caller { get; } = new(BuiltInName, AdminRole.Administrator, BuiltInName);

    /// <inheritdoc/>
    public AdminCaller? Identify(string? presentedKey) => IsValid(presentedKey) ? Caller : null;

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

/// <summary>Requires a key of the server's <see cref="IAdminKeyRing"/> on a route group (the Task Server's admin endpoints).</summary>
public sealed class AdminKeyFilter(IAdminKeyRing keys) : IEndpointFilter
{
    /// <inheritdoc/>
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        return keys.Identify(AdminKey.Presented(context.HttpContext.Request)) is not null
            ? next(context)
            : ValueTask.FromResult<object?>(AdminKey.Refusal(context.HttpContext, AdminKey.HeaderDetail));
    }
}

/// <summary>
/// Requires a key of the server's <see cref="IAdminKeyRing"/> in a branch of the pipeline (endpoints that are not route handlers,
/// e.g. <c>/metrics</c>, which every role may read).
/// </summary>
public static class AdminKeyMiddleware
{
    /// <summary>Answers 401 to a request without a key; passes the others on.</summary>
    public static IApplicationBuilder UseAdminKey(this IApplicationBuilder branch, IAdminKeyRing keys)
    {
        ArgumentNullException.ThrowIfNull(branch);
        ArgumentNullException.ThrowIfNull(keys);
        return branch.Use(next => context => keys.Identify(AdminKey.Presented(context.Request)) is not null
            ? next(context)
            : AdminKey.Refusal(context, AdminKey.HeaderDetail).ExecuteAsync(context));
    }
}
