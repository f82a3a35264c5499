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
/// Decides whom the agent calls, for both of its connections: the core agent's to the Notification Server and the Client Task Agent's to
/// its Task Server (the <c>taskServer</c> argument). The one decision (Direct or CEM) is taken here for both, so they never diverge. For
/// now always Direct: to the policy's first server host (or the install package's server before there is a policy), or to the chosen
/// Task Server's address. CEM routing through the gateway (prefer CEM, prefer CEM if VPN, direct unreachable) plugs in here.
/// </summary>
internal static class RouteResolver
{
    public static AgentRoute ResolveRoute(InstallPackage package, PolicyDocument? policy, TaskServerEntry? taskServer = null)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (taskServer is not null)
        {
            if (!TryParseHost(taskServer.Address, useHttps: true, out var tsAddress))
            {
                throw new InvalidOperationException($"the policy's Task Server '{taskServer.Id}' has no valid address ('{taskServer.Address}')");
            }

            var method = policy?.TaskServers?.Selection.ToString() ?? "policy";
            return new AgentRoute(ConnectionMode.Direct, tsAddress, $"Direct: Task Server '{taskServer.Id}' chosen by {method}");
        }

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
