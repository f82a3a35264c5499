using System.Globalization;
using System.Text.Json.Serialization;

namespace Tcm.Protocol;

/// <summary>Which proxy server, if any, an agent's connections go through.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProxyMode>))]
public enum ProxyMode
{
    /// <summary>"No proxy settings are specified for this communication profile": every connection is direct.</summary>
    [JsonStringEnumMemberName("none")] None,
    /// <summary>The proxy the machine is configured with (Windows' settings, <c>https_proxy</c>/<c>no_proxy</c> elsewhere).</summary>
    [JsonStringEnumMemberName("system")] System,
    /// <summary>The proxy at <see cref="ProxySettings.Address"/>.</summary>
    [JsonStringEnumMemberName("explicit")] Explicit,
}

/// <summary>
/// A communication profile's proxy settings: the agent opens every connection (HTTP requests, both persistent channels, package
/// downloads over HTTP(S), to the Notification Server, a Task Server or the CEM gateway alike) as a tunnel through an HTTP
/// <c>CONNECT</c> proxy. An agent that does not know this field ignores it. The admin API never returns <see cref="Password"/>:
/// it answers <see cref="PasswordStored"/> instead, and a save without a password keeps the stored one.
/// </summary>
public sealed record ProxySettings
{
    /// <summary>None, the system's, or an explicit proxy. Default none.</summary>
    public ProxyMode Mode { get; init; }

    /// <summary>With <see cref="ProxyMode.Explicit"/>: <c>http://host:port</c>.</summary>
    public string? Address { get; init; }

    /// <summary>The user name for the proxy's Basic authentication; null: the proxy asks for none.</summary>
    public string? UserName { get; init; }

    /// <summary>The password for <see cref="UserName"/>. Sent to agents in their policy; never in an admin API answer.</summary>
    public string? Password { get; init; }

    /// <summary>In admin API answers only: whether a password is stored (its value is never shown).</summary>
    public bool? PasswordStored { get; init; }

    /// <summary>
    /// Hosts reached without the proxy: host names or <c>host:port</c>, <c>*</c> and <c>?</c> wildcards, case-insensitive;
    /// <c>&lt;local&gt;</c> is every name without a dot. Default none.
    /// </summary>
    public IReadOnlyList<string> Bypass { get; set; } = [];

    /// <summary>"Allow a direct connection when the proxy fails": when the proxy cannot be reached or refuses, try the server directly. Default false.</summary>
    public bool AllowDirect { get; init; }

    /// <summary>Equal settings: every field, and the bypass list entry by entry (not the list's reference).</summary>
    public bool Equals(ProxySettings? other) =>
        other is not null && Mode == other.Mode && AllowDirect == other.AllowDirect && PasswordStored == other.PasswordStored
        && string.Equals(Address, other.Address, StringComparison.Ordinal) && string.Equals(UserName, other.UserName, StringComparison.Ordinal)
        && string.Equals(Password, other.Password, StringComparison.Ordinal) && (Bypass ?? []).SequenceEqual(other.Bypass ?? [], StringComparer.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Mode, Address, UserName, AllowDirect, Bypass?.Count ?? 0);

    /// <summary>What an admin API answer shows: the password replaced by whether one is stored.</summary>
    public ProxySettings Redacted() => this with { Password = null, PasswordStored = !string.IsNullOrEmpty(Password) };

    /// <summary>
    /// What a save stores: a password left out (null) keeps <paramref name="stored"/>'s when the address and user name are the
    /// same (an empty one clears it); <see cref="PasswordStored"/> is never stored.
    /// </summary>
    public ProxySettings KeepPasswordOf(ProxySettings? stored) =>
        this with
        {
            PasswordStored = null,
            Password = Password is null && stored is not null && string.Equals(stored.UserName, UserName, StringComparison.Ordinal)
                && string.Equals(stored.Address, Address, StringComparison.OrdinalIgnoreCase)
                ? stored.Password
                : string.IsNullOrEmpty(Password) ? null : Password,
        };

    /// <summary>Reads <c>http://host:port</c> (the port required, no path); false with the reason when it is not one.</summary>
    public static bool TryParseAddress(string? address, out string host, out int port, out string? problem)
    {
        host = "";
        port = 0;
        if (string.IsNullOrWhiteSpace(address) || !Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            problem = $"'{address}' is not an address like http://proxy.example:3128";
            return false;
        }

        if (uri.Scheme != Uri.UriSchemeHttp)
        {
            problem = $"'{address}': only http:// proxies are supported (the tunnel carries TLS itself)";
            return false;
        }

        var authority = address[(address.IndexOf("//", StringComparison.Ordinal) + 2)..].TrimEnd('/');
        var colon = authority.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(authority.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535
            || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.UserInfo))
        {
            problem = $"'{address}' must be http://host:port with a port between 1 and 65535 (credentials go in userName and password)";
            return false;
        }

        host = uri.IdnHost;
        problem = null;
        return true;
    }
}
