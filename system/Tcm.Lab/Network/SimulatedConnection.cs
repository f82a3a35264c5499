using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Tcm.Agent.Network;
using Tcm.Protocol;

namespace Tcm.Lab.Network;

/// <summary>
/// A simulated agent socket: a real loopback <see cref="NetworkStream"/> that counts bytes into the run's
/// <see cref="TrafficCounters"/> cell of its (adapter, destination, purpose), and can be aborted (reset) by its network.
/// Zero-byte reads stay zero-byte reads, so an idle connection holds no buffer (see <see cref="CountingStream"/>), and one
/// returns only once a byte (or the end) is there.
/// </summary>
public sealed class SimulatedConnection : CountingStream
{
    private readonly SimulatedNetwork _owner;
    private readonly Socket? _socket;
    private readonly NetworkTopology _topology;
    private readonly int _cell;
    private int _closed;
    private bool _tracked = true;

    internal SimulatedConnection(SimulatedNetwork owner, Socket socket, AdapterKind adapter, EndpointClass destination, TrafficPurpose purpose, NetworkTopology topology)
        : this(owner, new NetworkStream(socket, ownsSocket: true), socket, adapter, destination, purpose, topology)
    {
    }

    /// <summary>A connection over <paramref name="inner"/> (which it owns); <paramref name="socket"/>, when given, is the socket under it.</summary>
    internal SimulatedConnection(SimulatedNetwork owner, Stream inner, Socket? socket, AdapterKind adapter, EndpointClass destination, TrafficPurpose purpose, NetworkTopology topology)
        : base(inner)
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

    /// <summary>Which of its machine's VPN adapters it leaves by, over a VPN; -1 otherwise.</summary>
    public int VpnIndex { get; init; } = -1;
    public EndpointClass Destination { get; }
    public TrafficPurpose Purpose { get; }

    /// <summary>The real address the socket under it is connected to (null for a tunnel without its own socket, or once closed).</summary>
    public System.Net.EndPoint? RemoteEndPoint
    {
        get
        {
            try
            {
                return _socket?.RemoteEndPoint;
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
        }
    }

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
            _socket?.Close(0);
        }
        catch (ObjectDisposedException)
        {
        }

        Inner.Dispose();
    }

    internal void MarkUntracked() => _tracked = false;

    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = base.ReadAsync(buffer, cancellationToken);
        return read.IsCompleted ? read : buffer.IsEmpty ? BytesThereAsync(read, cancellationToken) : HoldingBufferAsync(read);
    }

    /// <summary>
    /// Waits until a byte (or the end, or an error) is there: a zero-byte read that completed later is checked by another, which
    /// completes at once when it is so.
    /// </summary>
    /// <remarks>
    /// why: the runtime completes a waiting zero-byte receive on any readiness event, also one left over from bytes an earlier read
    /// already took (two segments of a burst: the first read takes both). The reader above (<c>SslStream</c>) then rents its 32 KB
    /// buffer and waits in a real receive until the next bytes come, for an idle agent its next keep-alive, up to 30 s later:
    /// after a push to 10,000 agents, 8,900 sockets held one. A zero-byte read that completes at once saw a byte (a one-byte peek).
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> BytesThereAsync(ValueTask<int> wait, CancellationToken cancellationToken)
    {
        while (true)
        {
            await wait.ConfigureAwait(false);
            wait = base.ReadAsync(Memory<byte>.Empty, cancellationToken);
            if (wait.IsCompleted)
            {
                return await wait.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Counts a read that waits with its buffer (<see cref="NetworkTopology.ReceivesHoldingBuffer"/>) until it completes.</summary>
    private async ValueTask<int> HoldingBufferAsync(ValueTask<int> read)
    {
        _topology.ReceiveHoldsBuffer();
        try
        {
            return await read.ConfigureAwait(false);
        }
        finally
        {
            _topology.ReceiveReleasedBuffer();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Release();
        }

        base.Dispose(disposing);
    }

    protected override void OnWrite(int bytes)
    {
        _topology.Counters.AddSent(_cell, bytes);
        _owner.GroupCounters?.AddSent(_cell, bytes);
    }

    protected override void OnRead(int bytes)
    {
        _topology.Counters.AddReceived(_cell, bytes);
        _owner.GroupCounters?.AddReceived(_cell, bytes);
    }

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
