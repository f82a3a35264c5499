using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Routing;

/// <summary>
/// Whom the agent calls: the mode, the base address (the server itself, or the gateway's relay URL for it), and why (shown as the
/// Network Status route reason).
/// </summary>
internal sealed record AgentRoute(ConnectionMode Mode, Uri BaseAddress, string Reason)
{
    /// <summary>The target server's <c>host:port</c>, as the log lines and the Network Status name it (also through the gateway).</summary>
    public string HostAndPort { get; init; } = $"{BaseAddress.Host}:{BaseAddress.Port}";

    /// <summary>The gateway's <c>host:port</c> when <see cref="Mode"/> is <see cref="ConnectionMode.Cem"/>; otherwise null.</summary>
    public string? Gateway { get; init; }

    /// <summary>The one routing decision this route follows (the same object for the NS and the TS connection).</summary>
    public RoutePlan Plan { get; init; } = RoutePlan.Initial;

    /// <summary>The channel's address (<c>wss://</c> or <c>ws://</c>), below the relay prefix when through the gateway.</summary>
    public Uri ChannelUri => new UriBuilder(BaseAddress)
    {
        Scheme = BaseAddress.Scheme == Uri.UriSchemeHttps ? Uri.UriSchemeWss : Uri.UriSchemeWs,
        Path = BasePath + TcmPaths.Channel,
    }.Uri;

    /// <summary>The absolute address of <paramref name="pathAndQuery"/> (which starts with <c>/</c>), appended to the base path.</summary>
    public Uri For(string pathAndQuery) => new(BaseAddress, BasePath + pathAndQuery);

    private string BasePath => BaseAddress.AbsolutePath.TrimEnd('/');
}

/// <summary>
/// The agent's one routing decision (Direct or CEM, and why), taken by <see cref="RouteDecider"/> and shared by reference by the
/// Notification Server and the Task Server connection: both routes are derived from the same instance, so they cannot disagree.
/// </summary>
/// <param name="Mode">Direct, CEM, or Offline (neither works; the agent keeps trying directly with back-off).</param>
/// <param name="Reason">The decision's reason, as logged and shown in Network Status.</param>
/// <param name="Cem">The CEM settings in force when <paramref name="Mode"/> is CEM (gateway address and trust).</param>
internal sealed record RoutePlan(ConnectionMode Mode, string Reason, CemSettings? Cem)
{
    /// <summary>Before the first evaluation: Direct.</summary>
    public static RoutePlan Initial { get; } = new(ConnectionMode.Direct, "Direct: the route has not been evaluated yet", null);

    /// <summary>The gateway's <c>host:port</c> when CEM.</summary>
    public string? Gateway => Mode == ConnectionMode.Cem ? Cem?.GatewayAddress.Trim() : null;

    /// <summary>Whom the agent calls: Offline still calls the server directly (and keeps retrying with back-off).</summary>
    public ConnectionMode EffectiveMode => Mode == ConnectionMode.Cem ? ConnectionMode.Cem : ConnectionMode.Direct;

    /// <summary>Whether moving from this plan to <paramref name="other"/> changes whom the agent calls.</summary>
    public bool SameRouteAs(RoutePlan other) =>
        EffectiveMode == other.EffectiveMode && string.Equals(Gateway, other.Gateway, StringComparison.OrdinalIgnoreCase)
        && string.Equals(Cem?.GatewayCaCertificatePem, other.Cem?.GatewayCaCertificatePem, StringComparison.Ordinal);
}

/// <summary>
/// Decides whom the agent calls, for both of its connections: the core agent's to the Notification Server and the Client Task Agent's to
/// its Task Server (the <c>taskServer</c> argument). The decision (Direct or CEM, <see cref="RoutePlan"/>) is taken once, by
/// <see cref="Decide"/>, and applied here to both, so they never diverge: Direct calls the policy's first server host (the next one
/// after a failure, when the policy lists several Notification Server nodes; or the install package's server before there is a policy), or the chosen Task Server's address; CEM calls the gateway's relay URL for that same
/// address (<c>https://{gateway}/relay/{host:port}</c>).
/// </summary>
internal static class RouteResolver
{
    /// <summary>The route for the NS connection (no <paramref name="taskServer"/>) or the TS connection, Direct (no decision yet).</summary>
    public static AgentRoute ResolveRoute(InstallPackage package, PolicyDocument? policy, TaskServerEntry? taskServer = null) =>
        ResolveRoute(package, policy, RoutePlan.Initial, taskServer);

    /// <summary>
    /// The route for the NS connection (no <paramref name="taskServer"/>) or the TS connection, following <paramref name="plan"/>. The NS
    /// connection calls the policy's server host number <paramref name="serverHost"/> (counted from 0, round the list).
    /// </summary>
    public static AgentRoute ResolveRoute(InstallPackage package, PolicyDocument? policy, RoutePlan plan, TaskServerEntry? taskServer = null, int serverHost = 0)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(plan);
        var (address, directReason) = DirectAddress(package, policy, taskServer, serverHost);
        var hostAndPort = $"{address.Host}:{address.Port}";
        if (plan.Mode == ConnectionMode.Cem && plan.Gateway is { } gateway)
        {
            return new AgentRoute(ConnectionMode.Cem, GatewayPaths.RelayBase(gateway, hostAndPort), $"{plan.Reason} (gateway {gateway}, {directReason})")
            {
                HostAndPort = hostAndPort,
                Gateway = gateway,
                Plan = plan,
            };
        }

        var reason = ReferenceEquals(plan, RoutePlan.Initial) ? directReason : $"{plan.Reason} ({directReason})";
        return new AgentRoute(ConnectionMode.Direct, address, reason) { Plan = plan };
    }

    /// <summary>The Notification Server's direct <c>host:port</c> (the policy's server host number <paramref name="serverHost"/>), which the reachability probe calls.</summary>
    public static (string Host, int Port) DirectNotificationServer(InstallPackage package, PolicyDocument? policy, int serverHost = 0)
    {
        var (address, _) = DirectAddress(package, policy, null, serverHost);
        return (address.Host.Trim('[', ']'), address.Port);
    }

    /// <summary>
    /// The routing decision from its inputs (pure): the policy's targeted settings ("VPN Adapters Detection", "Prefer CEM", "Prefer CEM
    /// if VPN"), the adapters, the CEM settings (the policy's, else the install package's, validated by <see cref="RouteDecider.Assess"/>)
    /// and whether the Notification Server answered directly (null: not probed, because a preference already decides).
    /// </summary>
    public static RoutePlan Decide(InstallPackage package, PolicyDocument? policy, IReadOnlyList<Network.NetworkAdapter> adapters, bool? directReachable)
    {
        ArgumentNullException.ThrowIfNull(package);
        var inputs = Inputs(package, policy, adapters, directReachable ?? false, out var cem);
        var decision = RouteDecider.Decide(inputs);
        return new RoutePlan(decision.Mode, decision.Reason, decision.Mode == ConnectionMode.Cem ? cem : null);
    }

    /// <summary>Whether a preference ("Prefer CEM", or "Prefer CEM if VPN" with a VPN adapter up) decides without probing the server.</summary>
    public static bool PreferenceDecides(InstallPackage package, PolicyDocument? policy, IReadOnlyList<Network.NetworkAdapter> adapters)
    {
        var inputs = Inputs(package, policy, adapters, false, out _);
        return inputs.Cem == CemAvailability.Valid && (inputs.PreferCem || (inputs.PreferCemIfVpn && inputs.ActiveVpnAdapter is not null));
    }

    /// <summary>The CEM settings in force: the policy's, else the install package's.</summary>
    public static CemSettings? CemSettingsOf(InstallPackage package, PolicyDocument? policy) => policy?.Communication.Cem ?? package.Cem;

    private static RouteInputs Inputs(InstallPackage package, PolicyDocument? policy, IReadOnlyList<Network.NetworkAdapter> adapters, bool directReachable, out CemSettings? cem)
    {
        cem = CemSettingsOf(package, policy);
        var (availability, problem) = RouteDecider.Assess(cem);
        var settings = policy?.Settings;
        var vpn = RouteDecider.FindActiveVpnAdapter(adapters, settings?.VpnAdapters ?? []);
        return new RouteInputs(settings?.PreferCem ?? false, settings?.PreferCemIfVpn ?? false, availability, vpn, directReachable) { CemProblem = problem };
    }

    /// <summary>Which of <paramref name="count"/> server hosts number <paramref name="serverHost"/> names: round the list, never negative.</summary>
    public static int ServerHostIndex(int serverHost, int count) => count <= 0 ? 0 : (int)((uint)serverHost % (uint)count);

    private static (Uri Address, string Reason) DirectAddress(InstallPackage package, PolicyDocument? policy, TaskServerEntry? taskServer, int serverHost)
    {
        if (taskServer is not null)
        {
            if (!TryParseHost(taskServer.Address, useHttps: true, out var tsAddress))
            {
                throw new InvalidOperationException($"the policy's Task Server '{taskServer.Id}' has no valid address ('{taskServer.Address}')");
            }

            var method = policy?.TaskServers?.Selection.ToString() ?? "policy";
            return (tsAddress, $"Task Server '{taskServer.Id}' chosen by {method}");
        }

        var communication = policy?.Communication;
        if (communication is { ServerHosts: { Count: > 0 } hosts }
            && ServerHostIndex(serverHost, hosts.Count) is var index
            && TryParseHost(hosts[index], communication.UseHttps, out var address))
        {
            var profile = communication.ProfileName is { } name ? $"profile '{name}'" : "the policy";
            return (address, index == 0 ? $"first server host of {profile}" : $"server host {index + 1} of {hosts.Count} of {profile}, after a failure");
        }

        if (!Uri.TryCreate(package.ServerUrl, UriKind.Absolute, out var packageAddress))
        {
            throw new InvalidOperationException($"the install package's server URL '{package.ServerUrl}' is not an absolute URL");
        }

        return (new Uri(packageAddress.GetLeftPart(UriPartial.Authority)), "the install package's server (no server host in the policy)");
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
