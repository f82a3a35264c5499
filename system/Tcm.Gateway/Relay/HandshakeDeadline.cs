namespace Tcm.Gateway.Relay;

/// <summary>
/// How long a watched tunnel (one whose agent announced its keep-alive) waits for the backend's answer to the agent's upgrade,
/// in place of YARP's activity timeout: the token given to the forwarder is cancelled when the deadline passes before the
/// tunnel opens, or when the gateway stops. Once the tunnel is open (<see cref="Disarm"/>) only the gateway's stopping ends it
/// here; the agent's silence is <see cref="KeepAlive.TunnelWatch"/>'s to find.
/// </summary>
/// <remarks>
/// Why not YARP's activity timeout: it keeps one timer per tunnel for the tunnel's whole life (8,000 at 4,000 idle agents), and
/// the runtime walks that list of long timers whenever a timer fires (docs/benchmarks.md, issue 16); this timer is stopped at
/// the open, so an idle gateway holds none per tunnel.
/// </remarks>
internal sealed class HandshakeDeadline : IDisposable
{
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenRegistration _stopping;
    private int _state;

    /// <summary>A deadline <paramref name="timeout"/> from now, also cancelled by <paramref name="stopping"/>.</summary>
    public HandshakeDeadline(TimeSpan timeout, TimeProvider time, CancellationToken stopping)
    {
        _deadline = new CancellationTokenSource(timeout, time);
        _stopping = stopping.UnsafeRegister(static state => ((HandshakeDeadline)state!).Stop(), this);
    }

    /// <summary>The token for the forwarder.</summary>
    public CancellationToken Token => _deadline.Token;

    /// <summary>Whether the deadline passed before the tunnel opened (not the gateway stopping).</summary>
    public bool Expired => _deadline.IsCancellationRequested && Volatile.Read(ref _state) == State.Armed;

    /// <summary>The backend answered and the tunnel opened: the deadline no longer applies.</summary>
    public void Disarm()
    {
        if (Interlocked.CompareExchange(ref _state, State.Disarmed, State.Armed) == State.Armed)
        {
            _deadline.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _deadline.Dispose();
    }

    private void Stop()
    {
        Volatile.Write(ref _state, State.Stopped);
        _deadline.Cancel();
    }

    private static class State
    {
        public const int Armed = 0;
        public const int Disarmed = 1;
        public const int Stopped = 2;
    }
}
