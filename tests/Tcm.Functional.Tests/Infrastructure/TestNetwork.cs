using System.Collections.Concurrent;
using System.Net.Sockets;
using Tcm.Agent.Network;
using Tcm.Agent.Status;
using Tcm.Lab.Network;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// A laptop's network for routing tests: corporate endpoints (NS, TS, package servers, by port on 127.0.0.1) are reachable only in the
/// office or while the VPN adapter is up (then the connection leaves by the VPN adapter); the gateway is always reachable and never
/// routed through the VPN (split tunnel). Counts connections and bytes per adapter and purpose. Host names registered in
/// <paramref name="names"/> (the lab's package server, <c>pkg.tcm.lab</c>) lead to their loopback endpoints.
/// </summary>
internal sealed class TestNetwork(NetworkTopology? names = null) : INetwork
{
    public const string VpnName = @"Global\AeX{D55B3D95-9785-4A1B-A61F-2A4EB49A787B}";
    public const string VpnDescription = "Check Point Virtual Network Adapter For Endpoint VPN Client";
    public const string WiFi = "Wi-Fi";
    public const string Vpn = "VPN";
    private readonly HashSet<int> _corporatePorts = [];
    private volatile bool _office;
    private volatile bool _vpnUp;
    private int _probes;

    public ConcurrentQueue<(TrafficPurpose Purpose, int Port, string Adapter)> Connections { get; } = new();
    public ConcurrentDictionary<(string Adapter, TrafficPurpose Purpose), AgentCounters> Bytes { get; } = new();

    /// <summary>Called before each probe with its number (1-based): a test changes the network here.</summary>
    public Action<int>? BeforeProbe { get; set; }

    public bool VpnUp => _vpnUp;

    public event EventHandler? AdaptersChanged;

    public void AddCorporate(params int[] ports)
    {
        lock (_corporatePorts)
        {
            _corporatePorts.UnionWith(ports);
        }
    }

    public void SetOffice(bool office)
    {
        _office = office;
        AdaptersChanged?.Invoke(this, EventArgs.Empty);
    }

    public void SetVpn(bool up)
    {
        _vpnUp = up;
        AdaptersChanged?.Invoke(this, EventArgs.Empty);
    }

    public long BytesOver(string adapter, TrafficPurpose purpose) =>
        Bytes.TryGetValue((adapter, purpose), out var c) ? c.BytesSent + c.BytesReceived : 0;

    public int ConnectionsOver(string adapter, params TrafficPurpose[] purposes) =>
        Connections.Count(c => c.Adapter == adapter && purposes.Contains(c.Purpose));

    public IReadOnlyList<NetworkAdapter> GetAdapters() =>
    [
        new(WiFi, "Intel[R] Dual Band Wireless-AC 8265", true, ["192.168.1.81"]),
        new(VpnName, VpnDescription, _vpnUp, _vpnUp ? ["10.1.178.170"] : []),
    ];

    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken)
    {
        if (purpose == TrafficPurpose.Probe)
        {
            BeforeProbe?.Invoke(Interlocked.Increment(ref _probes));
        }

        bool corporate;
        lock (_corporatePorts)
        {
            corporate = _corporatePorts.Contains(endpoint.Port);
        }

        var adapter = WiFi;
        if (corporate && !_office)
        {
            adapter = _vpnUp ? Vpn : throw new SocketException((int)SocketError.NetworkUnreachable);
        }

        Connections.Enqueue((purpose, endpoint.Port, adapter));
        var stream = await TcpDial.ConnectAsync(names?.Find(endpoint)?.Target ?? (EndPoint)endpoint, cancellationToken);
        return Bytes.GetOrAdd((adapter, purpose), _ => new AgentCounters()).Count(stream);
    }
}
