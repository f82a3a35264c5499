using Tcm.Protocol;

namespace Tcm.Agent.Connection;

/// <summary>
/// The acknowledgement a channel holds back for a task's result to carry (<see cref="TaskResultMessage.AckUpToSeq"/>), so a task whose
/// result follows at once costs the push, the result and its acknowledgement: three messages instead of four. Cumulative, like every
/// acknowledgement: a later hold raises what is held. Held at most the limit of the first hold, on the agent's clock; then it is sent on
/// its own. Thread-safe: the receive loop holds, a task's runner or the deadline takes. One timer per channel, armed by a hold and
/// disarmed by a take, rather than one made and disposed per push (a channel holds once per task push).
/// </summary>
internal sealed class HeldAck(TimeProvider time, Action<long> sendOnItsOwn) : IDisposable
{
    private readonly Lock _gate = new();
    private long _upToSeq;
    private ITimer? _deadline;
    private bool _armed;
    private bool _disposed;

    /// <summary>Holds an acknowledgement of every push up to <paramref name="upToSeq"/> for at most <paramref name="limit"/>; false once disposed.</summary>
    public bool Hold(long upToSeq, TimeSpan limit)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            _upToSeq = Math.Max(_upToSeq, upToSeq);
            if (!_armed)
            {
                _armed = true;
                if (_deadline is null)
                {
                    _deadline = time.CreateTimer(static state => ((HeldAck)state!).OnDeadline(), this, limit, Timeout.InfiniteTimeSpan);
                }
                else
                {
                    _deadline.Change(limit, Timeout.InfiniteTimeSpan);
                }
            }

            return true;
        }
    }

    /// <summary>Takes what is held (to carry it, or to send it now); null when nothing is.</summary>
    public long? Take()
    {
        lock (_gate)
        {
            if (_armed)
            {
                _armed = false;
                _deadline?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            if (_upToSeq == 0)
            {
                return null;
            }

            var upToSeq = _upToSeq;
            _upToSeq = 0;
            return upToSeq;
        }
    }

    private void OnDeadline()
    {
        if (Take() is long upToSeq)
        {
            sendOnItsOwn(upToSeq);
        }
    }

    /// <summary>Drops what is held: the channel is gone, and the next hello says what the agent received.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _armed = false;
            _deadline?.Dispose();
            _deadline = null;
            _upToSeq = 0;
        }
    }
}
