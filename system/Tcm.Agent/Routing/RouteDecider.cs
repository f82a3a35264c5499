using Tcm.Agent.Network;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Routing;

/// <summary>Whether the agent has CEM (Internet Gateway) settings it can use.</summary>
public enum CemAvailability
{
    /// <summary>No CEM settings in the policy (or the install package).</summary>
    Missing,
    /// <summary>CEM settings exist but cannot be used (switched off, no gateway address, a gateway CA that does not parse).</summary>
    Invalid,
    /// <summary>CEM settings exist and can be used.</summary>
    Valid,
}

/// <summary>Everything the routing decision depends on, at one instant.</summary>
/// <param name="PreferCem">"Prefer CEM gateway connection".</param>
/// <param name="PreferCemIfVpn">"Prefer CEM gateway connection if VPN connection is established".</param>
/// <param name="Cem">Whether CEM settings are present and valid.</param>
/// <param name="ActiveVpnAdapter">The first up adapter that matches the "VPN Adapters Detection" list, or null.</param>
/// <param name="DirectReachable">Whether the Notification Server answers when called directly.</param>
public sealed record RouteInputs(bool PreferCem, bool PreferCemIfVpn, CemAvailability Cem, NetworkAdapter? ActiveVpnAdapter, bool DirectReachable)
{
    /// <summary>Why the CEM settings are not usable, when <see cref="Cem"/> is <see cref="CemAvailability.Invalid"/>.</summary>
    public string? CemProblem { get; init; }
}

/// <summary>The outcome: whom to call, and why (the reason is shown in Network Status and logged).</summary>
public readonly record struct RouteDecision(ConnectionMode Mode, string Reason);

/// <summary>
/// The agent's routing decision, per the support article "Prefer CEM connection if connected to VPN" and the design's
/// network model. One pure function, evaluated for the Notification Server connection and applied to the Task Server
/// connection as well, so the two never disagree (the article's bug: NS over VPN, TS through the gateway).
/// </summary>
/// <remarks>
/// Rules, first match wins:
/// 1. "Prefer CEM" set and CEM settings valid: CEM (it includes the VPN variant: the agent does not look at VPN at all).
/// 2. "Prefer CEM if VPN" set, a VPN adapter is active and CEM settings valid: CEM.
/// 3. The Notification Server is reachable directly: Direct.
/// 4. CEM settings valid: CEM.
/// 5. Otherwise: offline; retry with back-off.
/// The agent never picks an adapter: the OS routing does. The agent only chooses whom to call.
/// </remarks>
public static class RouteDecider
{
    public static RouteDecision Decide(RouteInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var cemValid = inputs.Cem == CemAvailability.Valid;
        if (inputs.PreferCem && cemValid)
        {
            return new(ConnectionMode.Cem, "CEM: 'Prefer CEM gateway connection' is set");
        }

        if (inputs.PreferCemIfVpn && inputs.ActiveVpnAdapter is { } vpn && cemValid)
        {
            return new(ConnectionMode.Cem, $"CEM: 'Prefer CEM gateway connection if VPN connection is established' is set and VPN adapter '{vpn.Description}' is active");
        }

        var cemNote = CemNote(inputs);
        if (inputs.DirectReachable)
        {
            return new(ConnectionMode.Direct, "Direct: the Notification Server is reachable directly" + cemNote);
        }

        if (cemValid)
        {
            return new(ConnectionMode.Cem, "CEM: the Notification Server is not reachable directly");
        }

        return new(ConnectionMode.Offline, "Offline: the Notification Server is not reachable directly and there are no valid CEM settings" + cemNote);
    }

    /// <summary>
    /// The first adapter that is up and whose name or description matches a pattern of the "VPN Adapters Detection" list
    /// (<c>*</c> and <c>?</c> wildcards, case-insensitive), or null.
    /// </summary>
    public static NetworkAdapter? FindActiveVpnAdapter(IReadOnlyList<NetworkAdapter> adapters, IReadOnlyList<string> vpnAdapterPatterns)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(vpnAdapterPatterns);
        foreach (var adapter in adapters)
        {
            if (!adapter.IsUp)
            {
                continue;
            }

            foreach (var pattern in vpnAdapterPatterns)
            {
                if (!string.IsNullOrWhiteSpace(pattern) && (Wildcard.IsMatch(adapter.Name, pattern.Trim()) || Wildcard.IsMatch(adapter.Description, pattern.Trim())))
                {
                    return adapter;
                }
            }
        }

        return null;
    }

    /// <summary>Whether CEM settings can be used, and if not, why.</summary>
    public static (CemAvailability Availability, string? Problem) Assess(CemSettings? cem)
    {
        if (cem is null)
        {
            return (CemAvailability.Missing, null);
        }

        if (!cem.Enabled)
        {
            return (CemAvailability.Invalid, "the CEM settings are switched off");
        }

        if (string.IsNullOrWhiteSpace(cem.GatewayAddress) || !TryParseHostPort(cem.GatewayAddress, out _, out _))
        {
            return (CemAvailability.Invalid, $"the gateway address '{cem.GatewayAddress}' is not host:port");
        }

        if (!string.IsNullOrWhiteSpace(cem.GatewayCaCertificatePem))
        {
            try
            {
                using var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(cem.GatewayCaCertificatePem);
            }
            catch (System.Security.Cryptography.CryptographicException ex)
            {
                return (CemAvailability.Invalid, $"the gateway CA certificate does not parse: {ex.Message}");
            }
        }

        return (CemAvailability.Valid, null);
    }

    /// <summary>Parses <c>host:port</c> (IPv6 in brackets).</summary>
    public static bool TryParseHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = text[..colon].Trim('[', ']');
        return host.Length > 0;
    }

    private static string CemNote(RouteInputs inputs) => inputs switch
    {
        { PreferCem: true, Cem: CemAvailability.Missing } => "; 'Prefer CEM gateway connection' is set but there are no CEM settings",
        { PreferCem: true, Cem: CemAvailability.Invalid } => $"; 'Prefer CEM gateway connection' is set but the CEM settings are invalid: {inputs.CemProblem}",
        { PreferCemIfVpn: true, ActiveVpnAdapter: not null, Cem: CemAvailability.Missing } => "; a VPN adapter is active and 'Prefer CEM ... if VPN' is set, but there are no CEM settings",
        { PreferCemIfVpn: true, ActiveVpnAdapter: not null, Cem: CemAvailability.Invalid } => $"; a VPN adapter is active and 'Prefer CEM ... if VPN' is set, but the CEM settings are invalid: {inputs.CemProblem}",
        _ => "",
    };
}
