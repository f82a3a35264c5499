namespace Tcm.Lab.Network;

/// <summary>
/// The adapters real VPN clients add, as Windows shows them (interface name and description), for <c>vpnAdapter:</c> presets.
/// The Check Point one is the adapter of the support article.
/// </summary>
public static class VpnAdapterPresets
{
    private static readonly Dictionary<string, VpnAdapterSpec> s_presets = new(StringComparer.OrdinalIgnoreCase)
    {
        ["checkpoint"] = new("Ethernet 3", "Check Point Virtual Network Adapter For Endpoint VPN Client") { Preset = "checkpoint" },
        ["cisco-anyconnect"] = new("Ethernet 4", "Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter for Windows x64") { Preset = "cisco-anyconnect" },
        ["globalprotect"] = new("Ethernet 5", "PANGP Virtual Ethernet Adapter") { Preset = "globalprotect" },
        ["fortinet"] = new("Ethernet 6", "Fortinet SSL VPN Virtual Ethernet Adapter") { Preset = "fortinet" },
        ["wireguard"] = new("wg-corp", "WireGuard Tunnel") { Preset = "wireguard" },
        ["openvpn"] = new("OpenVPN TAP-Windows6", "TAP-Windows Adapter V9") { Preset = "openvpn" },
    };

    /// <summary>The preset names, for the format reference and suggestions.</summary>
    public static IReadOnlyCollection<string> Names { get; } = s_presets.Keys.ToArray();

    /// <summary>The preset used when a group has a VPN client and names none: Check Point.</summary>
    public static VpnAdapterSpec Default => s_presets["checkpoint"];

    /// <summary>The preset with this name, or null.</summary>
    public static VpnAdapterSpec? Find(string name) => s_presets.GetValueOrDefault(name);
}
