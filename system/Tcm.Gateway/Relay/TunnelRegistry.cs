using System.Collections.Concurrent;
using System.Diagnostics;

namespace Tcm.Gateway.Relay;

/// <summary>Every open tunnel, for the idle sweep of <see cref="Diagnostics.GatewayHeartbeat"/> and for shutdown.</summary>
internal sealed class TunnelRegistry(TimeProvider time)
{
    private readonly ConcurrentDictionary<long, TunnelActivity> _tunnels = new();
    private long _nextId;

    public int Count => _tunnels.Count;

    public TunnelActivity Open(string backend, CancellationTokenSource cancel)
    {
        var tunnel = new TunnelActivity(Interlocked.Increment(ref _nextId), backend, cancel, time);
        _tunnels[tunnel.Id] = tunnel;
        return tunnel;
    }

    public void Close(TunnelActivity tunnel) => _tunnels.TryRemove(tunnel.Id, out _);

    /// <summary>Cancels every tunnel idle for longer than <paramref name="idleTimeout"/>; returns how many.</summary>
    public int CancelIdle(TimeSpan idleTimeout)
    {
        var now = time.GetTimestamp();
        var count = 0;
        foreach (var tunnel in _tunnels.Values)
        {
            if (time.GetElapsedTime(tunnel.LastActivity, now) > idleTimeout && tunnel.MarkIdle())
            {
                count++;
            }
        }

        return count;
    }
}

/// <summary>A tunnel's last activity and the way to end it.</summary>
[DebuggerDisplay("{Id} {Backend}")]
internal sealed class TunnelActivity(long id, string backend, CancellationTokenSource cancel, TimeProvider time)
{
    private long _lastActivity = time.GetTimestamp();
    private int _idle;

    public long Id { get; } = id;

    public string Backend { get; } = backend;

    public long LastActivity => Interlocked.Read(ref _lastActivity);

    /// <summary>Whether the idle sweep ended the tunnel.</summary>
    public bool WasIdle => Volatile.Read(ref _idle) == 1;

    public void Touch() => Interlocked.Exchange(ref _lastActivity, time.GetTimestamp());

    /// <summary>Marks the tunnel idle and cancels it; false when already marked.</summary>
    public bool MarkIdle()
    {
        if (Interlocked.Exchange(ref _idle, 1) == 1)
        {
            return false;
        }

        try
        {
            cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The tunnel ended between the sweep's look and the cancel.
        }

        return true;
    }
}
