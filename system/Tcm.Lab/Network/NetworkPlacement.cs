namespace Tcm.Lab.Network;

/// <summary>Where an agent sits.</summary>
public enum AgentLocation
{
    /// <summary>On the corporate LAN: Notification Server and Task Servers are reachable directly.</summary>
    Office,
    /// <summary>At home or in a hotel: only public endpoints, unless the VPN is up.</summary>
    Internet,
}

/// <summary>An agent's VPN client.</summary>
public enum VpnState
{
    /// <summary>No VPN client installed.</summary>
    None,
    /// <summary>Installed, not connected (the adapter exists and is down).</summary>
    Down,
    /// <summary>Connected: the VPN adapter is up and carries corporate traffic.</summary>
    Up,
}

/// <summary>A VPN adapter as a VPN client adds it: interface name and description.</summary>
public sealed record VpnAdapterSpec(string Name, string Description)
{
    /// <summary>The preset name this came from, or null for a custom <c>{name, description}</c>.</summary>
    public string? Preset { get; init; }
}
