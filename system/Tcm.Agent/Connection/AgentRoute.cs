using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Connection;

/// <summary>Whom the agent calls: the mode, the server's base address, and why (shown as the Network Status route reason).</summary>
internal sealed record AgentRoute(ConnectionMode Mode, Uri BaseAddress, string Reason)
{
    /// <summary><c>host:port</c>, as the log lines and the Network Status name the server.</summary>
    public string HostAndPort => $"{BaseAddress.Host}:{BaseAddress.Port}";

    /// <summary>The channel's address (<c>wss://</c> or <c>ws://</c>).</summary>
    public Uri ChannelUri => new UriBuilder(BaseAddress)
    {
        Scheme = BaseAddress.Scheme == Uri.UriSchemeHttps ? Uri.UriSchemeWss : Uri.UriSchemeWs,
        Path = TcmPaths.Channel,
    }.Uri;

    public Uri For(string pathAndQuery) => new(BaseAddress, pathAndQuery);
}

/// <summary>
/// Decides whom the agent calls. For now always Direct: to the policy's first server host, or to the install package's server before
/// there is a policy. CEM routing through the gateway (prefer CEM, prefer CEM if VPN, direct unreachable) plugs in here.
/// </summary>
internal static class RouteResolver
{
    public static AgentRoute ResolveRoute(InstallPackage package, PolicyDocument? policy)
    {
        ArgumentNullException.ThrowIfNull(package);
        var communication = policy?.Communication;
        if (communication is { ServerHosts: [var first, ..] } && TryParseHost(first, communication.UseHttps, out var address))
        {
            var profile = communication.ProfileName is { } name ? $"profile '{name}'" : "the policy";
            return new AgentRoute(ConnectionMode.Direct, address, $"Direct: first server host of {profile}");
        }

        if (!Uri.TryCreate(package.ServerUrl, UriKind.Absolute, out var packageAddress))
        {
            throw new InvalidOperationException($"the install package's server URL '{package.ServerUrl}' is not an absolute URL");
        }

        return new AgentRoute(ConnectionMode.Direct, new Uri(packageAddress.GetLeftPart(UriPartial.Authority)), "Direct: the install package's server (no server host in the policy)");
    }

    /// <summary>Parses <c>host:port</c> (or a full URL) into a base address.</summary>
    internal static bool TryParseHost(string host, bool useHttps, out Uri address)
    {
        var text = host.Contains("://", StringComparison.Ordinal) ? host : (useHttps ? "https://" : "http://") + host;
        if (Uri.TryCreate(text, UriKind.Absolute, out var parsed) && parsed.Host.Length > 0)
        {
            address = new Uri(parsed.GetLeftPart(UriPartial.Authority));
            return true;
        }

        address = null!;
        return false;
    }
}
