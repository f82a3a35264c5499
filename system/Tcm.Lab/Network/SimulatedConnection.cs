using System.Net.Sockets;
using Tcm.Agent.Network;
using Tcm.Protocol;

namespace Tcm.Lab.Network;

/// <summary>
/// A simulated agent socket: a real loopback <see cref="NetworkStream"/> that counts bytes into the run's
/// <see cref="TrafficCounters"/> cell of its (adapter, destination, purpose), and can be aborted (reset) by its network.
/// Zero-byte reads stay zero-byte reads, so an idle connection holds no buffer (see <see cref="CountingStream"/>).
/// </summary>
public sealed class SimulatedConnection : CountingStream
{
    private readonly SimulatedNetwork _owner;
    private readonly Socket _socket;
    private readonly NetworkTopology _topology;
    private readonly int _cell;
    private int _closed;
    private bool _tracked = true;

    internal SimulatedConnection(SimulatedNetwork owner, Socket socket, AdapterKind adapter, EndpointClass destination, TrafficPurpose purpose, NetworkTopology topology)
        : base(new NetworkStream(socket, ownsSocket: true))
    {
        _owner = owner;
        _socket = socket;
        _topology = topology;
        Adapter = adapter;
        Destination = destination;
        Purpose = purpose;
        _cell = TrafficCounters.Cell(adapter, destination, purpose);
    }

    /// <summary>The adapter this connection leaves by.</summary>
    public AdapterKind Adapter { get; }
    public EndpointClass Destination { get; }
    public TrafficPurpose Purpose { get; }

    /// <summary>Whether the connection was aborted or disposed.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Resets the connection (RST, no close handshake): the agent's pending and next reads and writes fail.</summary>
    public void Abort()
    {
        if (!Release())
        {
            return;
        }

        try
        {
            _socket.Close(0);
        }
        catch (ObjectDisposedException)
        {
        }

        Inner.Dispose();
    }

    internal void MarkUntracked() => _tracked = false;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Release();
        }

        base.Dispose(disposing);
    }

    protected override void OnWrite(int bytes) => _topology.Counters.AddSent(_cell, bytes);

    protected override void OnRead(int bytes) => _topology.Counters.AddReceived(_cell, bytes);

    private bool Release()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return false;
        }

        _topology.SocketClosed();
        if (_tracked)
        {
            _owner.Closed(this);
        }

        return true;
    }

}
