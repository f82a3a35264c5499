using System.Net;
using System.Net.Sockets;
using Tcm.Agent.Network;

namespace Tcm.Lab.Network;

/// <summary>
/// One virtual agent's network (<see cref="INetwork"/>): where the machine is, its adapters, and what it can reach.
/// Reachability is enforced at connect time, as design.md's "Network model" says:
/// <list type="bullet">
/// <item>Corporate endpoints from the office (over Ethernet), or from the internet only while the VPN is up (over the VPN adapter);</item>
/// <item>Public endpoints from anywhere, over Ethernet or Wi-Fi, never over the VPN adapter (split tunnelling).</item>
/// </list>
/// What is unreachable fails quickly with <see cref="SocketError.NetworkUnreachable"/>; everything else opens a real loopback socket
/// (NoDelay) to the server registered in the <see cref="NetworkTopology"/>, wrapped in a stream that counts bytes per
/// (adapter, destination class, purpose). Changing location or VPN raises <see cref="AdaptersChanged"/> and breaks the sockets whose
/// route no longer holds, as a real laptop's do; <see cref="DropConnections"/> breaks them all.
/// A machine may have several VPN clients (adapters), each up or down: corporate traffic takes the first one up, and a socket breaks
/// only when its own adapter goes down, so with two up and one going down the agent carries on over the other.
/// Per-agent state is a few fields and a short list of open connections.
/// </summary>
public sealed class SimulatedNetwork : INetwork
{
    /// <summary>Ethernet adapter shown in the office.</summary>
    public static readonly (string Name, string Description) EthernetAdapter = ("Ethernet", "Intel(R) Ethernet Connection (4) I219-LM");

    /// <summary>Wi-Fi adapter shown at home, as in the support article.</summary>
    public static readonly (string Name, string Description) WiFiAdapter = ("Wi-Fi", "Intel(R) Dual Band Wireless-AC 8265");

    private readonly NetworkTopology _topology;
    private readonly IReadOnlyList<VpnAdapterSpec> _vpnAdapters;
    private readonly int _addressSeed;
    private readonly Lock _sync = new();
    private List<SimulatedConnection>? _open;
    private AgentLocation _location;
    // One bit per VPN adapter (in _vpnAdapters' order): up while set.
    private int _vpnUp;

    /// <param name="topology">The run's shared topology.</param>
    /// <param name="location">Where the machine starts.</param>
    /// <param name="vpnAdapter">The adapter the VPN client adds, or null when no VPN client is installed.</param>
    /// <param name="vpnUp">Whether the VPN starts connected (needs <paramref name="vpnAdapter"/>).</param>
    /// <param name="addressSeed">Makes the machine's addresses distinct (use the agent index).</param>
    public SimulatedNetwork(NetworkTopology topology, AgentLocation location, VpnAdapterSpec? vpnAdapter = null, bool vpnUp = false, int addressSeed = 0)
        : this(topology, location, vpnAdapter is null ? [] : [vpnAdapter], vpnUp, addressSeed)
    {
    }

    /// <param name="topology">The run's shared topology.</param>
    /// <param name="location">Where the machine starts.</param>
    /// <param name="vpnAdapters">The adapters the machine's VPN clients add (none, one, or several), in the order corporate traffic prefers them.</param>
    /// <param name="vpnUp">Whether every VPN starts connected (needs at least one adapter).</param>
    /// <param name="addressSeed">Makes the machine's addresses distinct (use the agent index).</param>
    public SimulatedNetwork(NetworkTopology topology, AgentLocation location, IReadOnlyList<VpnAdapterSpec> vpnAdapters, bool vpnUp, int addressSeed)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(vpnAdapters);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vpnAdapters.Count, 30);
        if (vpnUp && vpnAdapters.Count == 0)
        {
            throw new ArgumentException("A VPN cannot be up without a VPN adapter.", nameof(vpnUp));
        }

        _topology = topology;
        _location = location;
        _vpnAdapters = vpnAdapters;
        _vpnUp = vpnUp ? AllAdapters : 0;
        _addressSeed = addressSeed;
    }

    /// <summary>
    /// Counters this machine's traffic is counted in besides the topology's (the traffic of its group, shared by the group's machines);
    /// null: the topology's only.
    /// </summary>
    public TrafficCounters? GroupCounters { get; init; }

    /// <inheritdoc />
    public event EventHandler? AdaptersChanged;

    /// <summary>Where the machine is now.</summary>
    public AgentLocation Location
    {
        get
        {
            lock (_sync)
            {
                return _location;
            }
        }
    }

    /// <summary>VPN state now: none (no client), down or up.</summary>
    public VpnState Vpn
    {
        get
        {
            lock (_sync)
            {
                return _vpnAdapters.Count == 0 ? VpnState.None : _vpnUp != 0 ? VpnState.Up : VpnState.Down;
            }
        }
    }

    /// <summary>Whether a VPN client is installed.</summary>
    public bool HasVpnClient => _vpnAdapters.Count > 0;

    /// <summary>The adapters of the machine's VPN clients, in the order corporate traffic prefers them.</summary>
    public IReadOnlyList<VpnAdapterSpec> VpnAdapters => _vpnAdapters;

    /// <summary>Simulated sockets of this agent open right now.</summary>
    public int OpenConnections
    {
        get
        {
            lock (_sync)
            {
                return _open?.Count ?? 0;
            }
        }
    }

    /// <summary>
    /// The adapter a connection to an endpoint of <paramref name="destination"/> would leave by now, or null when it is unreachable.
    /// </summary>
    public AdapterKind? RouteTo(EndpointClass destination)
    {
        lock (_sync)
        {
            return Route(_location, _vpnUp != 0, destination);
        }
    }

    /// <inheritdoc />
    public ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var registered = _topology.Find(endpoint);
        var host = registered ?? _topology.FindHost(endpoint.Host);
        if (host is null)
        {
            return ValueTask.FromException<Stream>(new SocketException((int)SocketError.HostNotFound));
        }

        var route = RouteTo(host.Class);
        if (route is null)
        {
            _topology.Counters.AddUnreachable(host.Class, purpose);
            GroupCounters?.AddUnreachable(host.Class, purpose);
            return ValueTask.FromException<Stream>(new SocketException((int)SocketError.NetworkUnreachable));
        }

        if (registered is null || !registered.IsUp)
        {
            return ValueTask.FromException<Stream>(new SocketException((int)SocketError.ConnectionRefused));
        }

        return ConnectCoreAsync(registered, route.Value, purpose, cancellationToken);
    }

    private async ValueTask<Stream> ConnectCoreAsync(RegisteredEndpoint registered, AdapterKind route, TrafficPurpose purpose, CancellationToken cancellationToken)
    {
        if (!_topology.TryOpenSocket())
        {
            throw new SocketException((int)SocketError.TooManyOpenSockets);
        }

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SimulatedConnection? connection = null;
        try
        {
            using (var deadline = new CancellationTokenSource(_topology.ConnectTimeout, _topology.Time))
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token))
            {
                try
                {
                    await socket.ConnectAsync(registered.Target, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new SocketException((int)SocketError.TimedOut);
                }
            }

            connection = new SimulatedConnection(this, socket, route, registered.Class, purpose, _topology) { VpnIndex = route == AdapterKind.Vpn ? FirstUp() : -1 };
            lock (_sync)
            {
                // The machine may have moved while we were connecting: that socket would not have survived.
                if (Broken(connection))
                {
                    connection.MarkUntracked();
                    connection.Dispose();
                    throw new SocketException((int)SocketError.NetworkUnreachable);
                }

                (_open ??= new List<SimulatedConnection>(2)).Add(connection);
            }

            var cell = TrafficCounters.Cell(route, registered.Class, purpose);
            _topology.Counters.AddConnection(cell);
            GroupCounters?.AddConnection(cell);
            return connection;
        }
        catch
        {
            if (connection is null)
            {
                _topology.SocketClosed();
            }

            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<NetworkAdapter> GetAdapters()
    {
        AgentLocation location;
        int vpnUp;
        lock (_sync)
        {
            location = _location;
            vpnUp = _vpnUp;
        }

        var x = (_addressSeed / 250) % 250;
        var y = (_addressSeed % 250) + 2;
        var office = location == AgentLocation.Office;
        var adapters = new List<NetworkAdapter>(2 + _vpnAdapters.Count)
        {
            new(EthernetAdapter.Name, EthernetAdapter.Description, office, office ? [$"10.20.{x}.{y}"] : []),
            new(WiFiAdapter.Name, WiFiAdapter.Description, !office, office ? [] : [$"192.168.1.{y}"]),
        };
        for (var i = 0; i < _vpnAdapters.Count; i++)
        {
            var vpn = _vpnAdapters[i];
            var up = (vpnUp & (1 << i)) != 0;
            adapters.Add(new NetworkAdapter(vpn.Name, vpn.Description, up, up ? [$"10.{1 + i}.{x}.{y}"] : []));
        }

        return adapters;
    }

    /// <summary>Takes the machine to <paramref name="location"/>: sockets whose route changes break; raises <see cref="AdaptersChanged"/>.</summary>
    /// <returns>Whether anything changed.</returns>
    public bool MoveTo(AgentLocation location) => Change(ref _location, _ => location);

    /// <summary>Connects or disconnects every VPN: sockets over a VPN adapter break when it goes down; raises <see cref="AdaptersChanged"/>.</summary>
    /// <returns>Whether anything changed.</returns>
    /// <exception cref="InvalidOperationException">No VPN client is installed.</exception>
    public bool SetVpn(bool up)
    {
        if (_vpnAdapters.Count == 0)
        {
            throw new InvalidOperationException("This machine has no VPN client.");
        }

        var all = AllAdapters;
        return Change(ref _vpnUp, _ => up ? all : 0);
    }

    /// <summary>
    /// Connects or disconnects one VPN client, named by its adapter's preset (<c>checkpoint</c>), name or description: only the sockets
    /// over that adapter break when it goes down. False when nothing changed, also when the machine has no such adapter.
    /// </summary>
    public bool SetVpn(bool up, string adapter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(adapter);
        var index = IndexOf(adapter);
        if (index < 0)
        {
            return false;
        }

        return Change(ref _vpnUp, mask => up ? mask | (1 << index) : mask & ~(1 << index));
    }

    /// <summary>Whether the machine has a VPN adapter of this preset, name or description.</summary>
    public bool HasVpnAdapter(string adapter) => IndexOf(adapter) >= 0;

    private int IndexOf(string adapter)
    {
        for (var i = 0; i < _vpnAdapters.Count; i++)
        {
            var a = _vpnAdapters[i];
            if (string.Equals(a.Preset, adapter, StringComparison.OrdinalIgnoreCase) || string.Equals(a.Name, adapter, StringComparison.OrdinalIgnoreCase)
                || string.Equals(a.Description, adapter, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private int AllAdapters => (1 << _vpnAdapters.Count) - 1;

    /// <summary>The VPN adapter corporate traffic takes now: the first one up, or -1.</summary>
    private int FirstUp()
    {
        lock (_sync)
        {
            return _vpnUp == 0 ? -1 : System.Numerics.BitOperations.TrailingZeroCount(_vpnUp);
        }
    }

    /// <summary>Whether <paramref name="connection"/>'s route no longer holds: another adapter now, or its VPN adapter went down. Under the lock.</summary>
    private bool Broken(SimulatedConnection connection) =>
        Route(_location, _vpnUp != 0, connection.Destination) != connection.Adapter
        || (connection.Adapter == AdapterKind.Vpn && (connection.VpnIndex < 0 || (_vpnUp & (1 << connection.VpnIndex)) == 0));

    /// <summary>Sets one of the machine's network facts; when it changed, breaks the sockets whose route it changes and raises <see cref="AdaptersChanged"/>.</summary>
    private bool Change<T>(ref T field, Func<T, T> next)
    {
        lock (_sync)
        {
            var value = next(field);
            if (EqualityComparer<T>.Default.Equals(field, value))
            {
                return false;
            }

            field = value;
        }

        BreakInvalidRoutes();
        AdaptersChanged?.Invoke(this, EventArgs.Empty);
        return true;
    }

    /// <summary>Simulates a network drop: every open socket of this agent is reset (no close handshake). Adapters do not change.</summary>
    /// <returns>How many sockets were broken.</returns>
    public int DropConnections()
    {
        SimulatedConnection[] victims;
        lock (_sync)
        {
            victims = _open?.ToArray() ?? [];
        }

        foreach (var connection in victims)
        {
            connection.Abort();
        }

        return victims.Length;
    }

    /// <summary>
    /// Resets this agent's open sockets to the server registered as <paramref name="label"/> (<c>ns-1</c>), as when that server's process
    /// dies: no close handshake on either side. Returns how many were broken.
    /// </summary>
    public int DropConnectionsTo(string label)
    {
        var target = _topology.Endpoints.FirstOrDefault(e => string.Equals(e.Label, label, StringComparison.OrdinalIgnoreCase))?.Target;
        SimulatedConnection[] victims;
        lock (_sync)
        {
            victims = target is null ? [] : _open?.Where(c => target.Equals(c.RemoteEndPoint)).ToArray() ?? [];
        }

        foreach (var connection in victims)
        {
            connection.Abort();
        }

        return victims.Length;
    }

    private void BreakInvalidRoutes()
    {
        List<SimulatedConnection>? victims = null;
        lock (_sync)
        {
            if (_open is null)
            {
                return;
            }

            foreach (var connection in _open)
            {
                if (Broken(connection))
                {
                    (victims ??= []).Add(connection);
                }
            }
        }

        if (victims is not null)
        {
            foreach (var connection in victims)
            {
                connection.Abort();
            }
        }
    }

    internal void Closed(SimulatedConnection connection)
    {
        lock (_sync)
        {
            _open?.Remove(connection);
        }
    }

    /// <summary>The routing table of design.md: which adapter a destination is reached by, or null (unreachable).</summary>
    internal static AdapterKind? Route(AgentLocation location, bool vpnUp, EndpointClass destination) => (location, destination) switch
    {
        (AgentLocation.Office, _) => AdapterKind.Ethernet,
        (AgentLocation.Internet, EndpointClass.Public) => AdapterKind.WiFi,
        (AgentLocation.Internet, EndpointClass.Corporate) when vpnUp => AdapterKind.Vpn,
        _ => null,
    };
}
