using System.Diagnostics.CodeAnalysis;
using Tcm.Protocol;

namespace Tcm.Gateway.Relay;

/// <summary>
/// A parsed relay target: <c>/relay/{host}:{port}{pathAndQuery}</c>. <see cref="Backend"/> is normalised (host lower case,
/// no default-port elision) so it compares with the configured addresses; <see cref="PathAndQuery"/> is passed on unchanged.
/// </summary>
internal readonly record struct RelayAddress(string Backend, string PathAndQuery)
{
    private const string Prefix = GatewayPaths.Relay + "/";

    /// <summary>Parses a raw request target; on failure <paramref name="problem"/> says what is wrong, for the refusal.</summary>
    public static bool TryParse(string? rawTarget, out RelayAddress address, [NotNullWhen(false)] out string? problem)
    {
        address = default;
        if (string.IsNullOrEmpty(rawTarget) || !rawTarget.StartsWith(Prefix, StringComparison.Ordinal))
        {
            problem = $"the gateway relays only {Prefix}{{host}}:{{port}}/{{path}}; '{Truncate(rawTarget)}' is not such a path";
            return false;
        }

        var rest = rawTarget.AsSpan(Prefix.Length);
        var end = rest.IndexOfAny('/', '?');
        var authority = end < 0 ? rest : rest[..end];
        if (!TryNormalizeHostAndPort(authority, out var backend, out problem))
        {
            return false;
        }

        var pathAndQuery = end < 0 ? "/" : rest[end] == '?' ? "/" + rest[end..].ToString() : rest[end..].ToString();
        if (pathAndQuery.StartsWith("//", StringComparison.Ordinal))
        {
            problem = "the path after the backend address must not start with '//'";
            return false;
        }

        address = new RelayAddress(backend, pathAndQuery);
        return true;
    }

    /// <summary>Checks and normalises <c>host:port</c> (DNS name, IPv4, or [IPv6]; port 1..65535).</summary>
    public static bool TryNormalizeHostAndPort(ReadOnlySpan<char> value, [NotNullWhen(true)] out string? normalized, [NotNullWhen(false)] out string? problem)
    {
        normalized = null;
        var colon = value.LastIndexOf(':');
        if (value.IsEmpty || colon <= 0 || colon == value.Length - 1)
        {
            problem = $"'{Truncate(value.ToString())}' is not host:port (the backend address needs its port, e.g. ns1.corp:4443)";
            return false;
        }

        var host = value[..colon];
        var portText = value[(colon + 1)..];
        if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            problem = $"the port '{Truncate(portText.ToString())}' of '{Truncate(value.ToString())}' is not a number in 1..65535";
            return false;
        }

        var hostText = host.ToString();
        var bare = hostText.StartsWith('[') && hostText.EndsWith(']') ? hostText[1..^1] : hostText;
        var kind = Uri.CheckHostName(bare);
        if (kind is UriHostNameType.Unknown or UriHostNameType.Basic || (kind == UriHostNameType.IPv6 && bare == hostText))
        {
            problem = $"the host '{Truncate(hostText)}' is not a DNS name, an IPv4 address or a bracketed IPv6 address";
            return false;
        }

        normalized = hostText.ToLowerInvariant() + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        problem = null;
        return true;
    }

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 80 ? value : value[..80] + "...";
}
