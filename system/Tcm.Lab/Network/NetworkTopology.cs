using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Tcm.Agent.Network;

namespace Tcm.Lab.Network;

/// <summary>Where an endpoint sits, which decides who can reach it (design.md, "Network model").</summary>
public enum EndpointClass
{
    /// <summary>Inside the corporate network: Notification Server, Task Servers, UNC and HTTP package servers.
    /// Reachable from the office, or from the internet only over an up VPN adapter.</summary>
    Corporate,
    /// <summary>On the internet: the CEM gateway, public HTTPS codebases. Reachable from anywhere, never over the VPN adapter (split tunnelling).</summary>
    Public,
}

/// <summary>The kind of adapter a connection leaves by; traffic is counted per kind.</summary>
public enum AdapterKind
{
    Ethernet,
    WiFi,
    Vpn,
}

/// <summary>
/// One endpoint agents dial (by the host:port the policy names) and the real loopback address that serves it.
/// <see cref="IsUp"/> false refuses connections at once (ConnectionRefused), e.g. while the lab has a server stopped.
/// </summary>
public sealed class RegisteredEndpoint(string host, int port, EndpointClass endpointClass, IPEndPoint target, string? label)
{
    private volatile bool _isUp = true;
    private volatile IPEndPoint _target = target;

    /// <summary>Host name as agents dial it, e.g. <c>ns.corp.example</c>.</summary>
    public string Host { get; } = host;
    public int Port { get; } = port;
    public EndpointClass Class { get; } = endpointClass;
    /// <summary>The real address, e.g. <c>127.0.0.1:51234</c>. May change when a server restarts on another port.</summary>
    public IPEndPoint Target { get => _target; set => _target = value ?? throw new ArgumentNullException(nameof(value)); }
    /// <summary>Short name for reports, e.g. <c>ns</c>, <c>ts1</c>, <c>gateway</c>.</summary>
    public string Label { get; } = label ?? $"{host}:{port}";
    /// <summary>Whether connections are accepted (false: refused quickly with ConnectionRefused).</summary>
    public bool IsUp { get => _isUp; set => _isUp = value; }

    public override string ToString() => $"{Label} ({Host}:{Port} -> {Target}, {Class})";
}

/// <summary>
/// The network of one run, shared by every <see cref="SimulatedNetwork"/>: the endpoints agents may dial, mapped to real
/// loopback addresses, the traffic counters and the live count of open sockets. Thread-safe.
/// </summary>
public sealed class NetworkTopology
{
    private readonly ConcurrentDictionary<string, RegisteredEndpoint> _endpoints = new(StringComparer.OrdinalIgnoreCase);
    private int _openSockets;
    private int _peakOpenSockets;
    private int _receivesHoldingBuffer;

    /// <summary>Bytes and connections per adapter kind, destination class and purpose.</summary>
    public TrafficCounters Counters { get; } = new();

    /// <summary>How long a loopback connect may take before it fails with TimedOut. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock of <see cref="ConnectTimeout"/>. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// When set, connections beyond this many open simulated sockets are refused with <c>TooManyOpenSockets</c>, so a run
    /// fails visibly instead of the process hitting its open-file limit (20,000 here; each loopback connection to an
    /// in-process server costs two). Default null (no limit).
    /// </summary>
    public int? MaxOpenSockets { get; init; }

    /// <summary>Simulated sockets open right now (all agents).</summary>
    public int OpenSockets => Volatile.Read(ref _openSockets);

    /// <summary>Most simulated sockets open at once so far.</summary>
    public int PeakOpenSockets => Volatile.Read(ref _peakOpenSockets);

    /// <summary>
    /// Simulated sockets whose reader waits right now with a buffer (a read of more than zero bytes that did not complete at once):
    /// an idle agent waits with zero-byte reads, so this counts the receives still in flight, e.g. a TLS record half arrived.
    /// </summary>
    public int ReceivesHoldingBuffer => Volatile.Read(ref _receivesHoldingBuffer);

    /// <summary>Every registered endpoint.</summary>
    public IReadOnlyCollection<RegisteredEndpoint> Endpoints => _endpoints.Values.ToArray();

    /// <summary>Registers (or replaces) what <paramref name="host"/>:<paramref name="port"/> leads to.</summary>
    public RegisteredEndpoint Register(string host, int port, EndpointClass endpointClass, IPEndPoint target, string? label = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        var endpoint = new RegisteredEndpoint(host, port, endpointClass, target, label);
        _endpoints[Key(host, port)] = endpoint;
        return endpoint;
    }

    /// <summary>Registers <c>host:port</c> (as a policy writes it).</summary>
    public RegisteredEndpoint Register(string hostAndPort, EndpointClass endpointClass, IPEndPoint target, string? label = null)
    {
        var (host, port) = ParseHostPort(hostAndPort);
        return Register(host, port, endpointClass, target, label);
    }

    /// <summary>Removes an endpoint; dialling it then fails with HostNotFound.</summary>
    public bool Unregister(string host, int port) => _endpoints.TryRemove(Key(host, port), out _);

    /// <summary>The endpoint registered for <paramref name="endpoint"/>, or null.</summary>
    public RegisteredEndpoint? Find(DnsEndPoint endpoint) => _endpoints.GetValueOrDefault(Key(endpoint.Host, endpoint.Port));

    /// <summary>The endpoint with this label (<c>ns</c>, <c>ts1</c>, <c>gateway</c>...), or null.</summary>
    public RegisteredEndpoint? FindByLabel(string label) =>
        _endpoints.Values.FirstOrDefault(e => string.Equals(e.Label, label, StringComparison.OrdinalIgnoreCase));

    /// <summary>Splits <c>host:port</c>; IPv6 literals in brackets are accepted.</summary>
    public static (string Host, int Port) ParseHostPort(string hostAndPort)
    {
        var colon = hostAndPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostAndPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new FormatException($"'{hostAndPort}' is not host:port");
        }

        return (hostAndPort[..colon].Trim('[', ']'), port);
    }

    internal bool TryOpenSocket()
    {
        var now = Interlocked.Increment(ref _openSockets);
        if (MaxOpenSockets is { } max && now > max)
        {
            Interlocked.Decrement(ref _openSockets);
            return false;
        }

        int peak;
        while (now > (peak = Volatile.Read(ref _peakOpenSockets)) && Interlocked.CompareExchange(ref _peakOpenSockets, now, peak) != peak)
        {
        }

        return true;
    }

    internal void SocketClosed() => Interlocked.Decrement(ref _openSockets);

    internal void ReceiveHoldsBuffer() => Interlocked.Increment(ref _receivesHoldingBuffer);

    internal void ReceiveReleasedBuffer() => Interlocked.Decrement(ref _receivesHoldingBuffer);

    private static string Key(string host, int port) => string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
}

/// <summary>
/// Run-wide traffic counters, indexed by (adapter kind, destination class, purpose): bytes sent, bytes received, connections
/// opened, and connection attempts refused as unreachable. Lock-free (<see cref="Interlocked"/>); cheap enough for 10,000 agents.
/// </summary>
public sealed class TrafficCounters
{
    private static readonly int s_adapters = Enum.GetValues<AdapterKind>().Length;
    private static readonly int s_classes = Enum.GetValues<EndpointClass>().Length;
    private static readonly int s_purposes = Enum.GetValues<TrafficPurpose>().Length;

    private readonly long[] _sent = new long[s_adapters * s_classes * s_purposes];
    private readonly long[] _received = new long[s_adapters * s_classes * s_purposes];
    private readonly long[] _connections = new long[s_adapters * s_classes * s_purposes];
    private readonly long[] _unreachable = new long[s_classes * s_purposes];

    internal static int Cell(AdapterKind adapter, EndpointClass destination, TrafficPurpose purpose) =>
        (((int)adapter * s_classes) + (int)destination) * s_purposes + (int)purpose;

    internal void AddSent(int cell, long bytes) => Interlocked.Add(ref _sent[cell], bytes);

    internal void AddReceived(int cell, long bytes) => Interlocked.Add(ref _received[cell], bytes);

    internal void AddConnection(int cell) => Interlocked.Increment(ref _connections[cell]);

    internal void AddUnreachable(EndpointClass destination, TrafficPurpose purpose) =>
        Interlocked.Increment(ref _unreachable[(int)destination * s_purposes + (int)purpose]);

    /// <summary>Connection attempts refused because the destination was unreachable from where the agent was.</summary>
    public long Unreachable
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _unreachable.Length; i++)
            {
                total += Interlocked.Read(ref _unreachable[i]);
            }

            return total;
        }
    }

    /// <summary>Bytes (sent + received) over VPN adapters, optionally only of one purpose.</summary>
    public long VpnBytes(TrafficPurpose? purpose = null) =>
        Snapshot().Where(c => c.Adapter == AdapterKind.Vpn && (purpose is null || c.Purpose == purpose)).Sum(c => c.BytesSent + c.BytesReceived);

    /// <summary>A consistent-enough copy of every non-empty cell (each number is read atomically).</summary>
    public IReadOnlyList<TrafficCell> Snapshot()
    {
        var cells = new List<TrafficCell>();
        foreach (var adapter in Enum.GetValues<AdapterKind>())
        {
            foreach (var destination in Enum.GetValues<EndpointClass>())
            {
                foreach (var purpose in Enum.GetValues<TrafficPurpose>())
                {
                    var i = Cell(adapter, destination, purpose);
                    var cell = new TrafficCell(adapter, destination, purpose,
                        Volatile.Read(ref _sent[i]), Volatile.Read(ref _received[i]), Volatile.Read(ref _connections[i]), 0);
                    if (cell.BytesSent + cell.BytesReceived + cell.Connections > 0)
                    {
                        cells.Add(cell);
                    }
                }
            }
        }

        foreach (var destination in Enum.GetValues<EndpointClass>())
        {
            foreach (var purpose in Enum.GetValues<TrafficPurpose>())
            {
                var refused = Volatile.Read(ref _unreachable[(int)destination * s_purposes + (int)purpose]);
                if (refused > 0)
                {
                    cells.Add(new TrafficCell(null, destination, purpose, 0, 0, 0, refused));
                }
            }
        }

        return cells;
    }
}

/// <summary>One row of <see cref="TrafficCounters.Snapshot"/>. <see cref="Adapter"/> is null on rows of refused (unreachable) attempts.</summary>
public sealed record TrafficCell(AdapterKind? Adapter, EndpointClass Destination, TrafficPurpose Purpose, long BytesSent, long BytesReceived, long Connections, long Unreachable);
