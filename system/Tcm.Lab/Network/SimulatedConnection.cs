using System.Net.Sockets;
using Tcm.Agent.Network;

namespace Tcm.Lab.Network;

/// <summary>
/// A simulated agent socket: a real loopback <see cref="NetworkStream"/> that counts bytes into the run's
/// <see cref="TrafficCounters"/> cell of its (adapter, destination, purpose), and can be aborted (reset) by its network.
/// Zero-byte reads stay zero-byte reads, so an idle connection holds no buffer.
/// </summary>
public sealed class SimulatedConnection : Stream
{
    private readonly SimulatedNetwork _owner;
    private readonly Socket _socket;
    private readonly NetworkStream _inner;
    private readonly NetworkTopology _topology;
    private readonly int _cell;
    private int _closed;
    private bool _tracked = true;

    internal SimulatedConnection(SimulatedNetwork owner, Socket socket, AdapterKind adapter, EndpointClass destination, TrafficPurpose purpose, NetworkTopology topology)
    {
        _owner = owner;
        _socket = socket;
        _inner = new NetworkStream(socket, ownsSocket: true);
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

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Received(_inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Received(_inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Received(await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        _inner.Write(buffer, offset, count);
        _topology.Counters.AddSent(_cell, count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _inner.Write(buffer);
        _topology.Counters.AddSent(_cell, buffer.Length);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        _topology.Counters.AddSent(_cell, buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

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

        _inner.Dispose();
    }

    internal void MarkUntracked() => _tracked = false;

    protected override void Dispose(bool disposing)
    {
        if (disposing && Release())
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
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

    private int Received(int count)
    {
        if (count > 0)
        {
            _topology.Counters.AddReceived(_cell, count);
        }

        return count;
    }
}
