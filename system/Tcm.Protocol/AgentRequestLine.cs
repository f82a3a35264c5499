using System.Globalization;

namespace Tcm.Protocol;

/// <summary>
/// An agent's request to a server's agent endpoints, over HTTP or as a channel's <c>http.request</c>: the method, the path (one of
/// <see cref="TcmPaths"/>) and the query. The Notification Server and the Task Server read it the same way.
/// </summary>
public readonly record struct AgentRequestLine(string Method, string Path, string Query)
{
    /// <summary>What a bad <c>after</c> gets back.</summary>
    public const string BadAfter = "after: must be a non-negative integer (the last push sequence number received)";

    /// <summary>Whether the method is GET.</summary>
    public bool IsGet => string.Equals(Method, "GET", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the method is POST.</summary>
    public bool IsPost => string.Equals(Method, "POST", StringComparison.OrdinalIgnoreCase);

    /// <summary>Splits <paramref name="pathAndQuery"/> at its first <c>?</c>.</summary>
    public static AgentRequestLine Parse(string method, string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        var queryStart = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        return queryStart < 0
            ? new AgentRequestLine(method, pathAndQuery, "")
            : new AgentRequestLine(method, pathAndQuery[..queryStart], pathAndQuery[(queryStart + 1)..]);
    }

    /// <summary>
    /// The <c>after=N</c> of a pending-push poll (the last sequence number received; 0 when absent). False when it is not a
    /// non-negative integer.
    /// </summary>
    public bool TryGetAfter(out long after)
    {
        after = 0;
        foreach (var pair in Query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (pair.StartsWith("after=", StringComparison.Ordinal)
                && !long.TryParse(pair["after=".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out after))
            {
                return false;
            }
        }

        return true;
    }
}
