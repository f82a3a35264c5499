using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tcm.Protocol;

namespace Tcm.Hosting.Admin;

/// <summary>
/// A server's admin key (the Notification Server's admin API, the gateway's status and approvals): from the options, or generated
/// into the data folder on first run. Finds the key a request presents and compares it in constant time.
/// </summary>
public sealed class AdminKey
{
    private const string Bearer = "Bearer ";
    private readonly byte[] _hash;

    /// <summary>The key <paramref name="value"/>.</summary>
    public AdminKey(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        Value = value;
        _hash = Hash(value);
    }

    /// <summary>The key itself.</summary>
    public string Value { get; }

    /// <summary>
    /// The key a request presents: the <c>X-Tcm-Admin-Key</c> header, else <c>Authorization: Bearer</c>, else (when
    /// <paramref name="queryName"/> is given, for a page opened in a browser) that query parameter; null when none.
    /// </summary>
    public static string? Presented(HttpRequest request, string? queryName = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? presented = request.Headers[ProtocolConstants.AdminKeyHeader];
        if (string.IsNullOrEmpty(presented) && request.Headers.Authorization.ToString() is { } authorization
            && authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization[Bearer.Length..].Trim();
        }

        if (string.IsNullOrEmpty(presented) && queryName is not null)
        {
            presented = request.Query[queryName];
        }

        return string.IsNullOrEmpty(presented) ? null : presented;
    }

    /// <summary>Whether <paramref name="presented"/> is this key (constant time).</summary>
    public bool Matches(string? presented) =>
        // why: hashing both sides gives equal lengths, so FixedTimeEquals leaks neither the key nor its length.
        !string.IsNullOrEmpty(presented) && CryptographicOperations.FixedTimeEquals(_hash, Hash(presented));

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
