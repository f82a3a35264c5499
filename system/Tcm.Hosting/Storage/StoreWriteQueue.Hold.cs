using System.Threading.Channels;

namespace Tcm.Hosting.Storage;

/// <summary>
/// Writes that may wait (<see cref="WriteWhenIdleAsync"/>) while the process has more urgent work (<see cref="HoldWhile"/>).
/// </summary>
public sealed partial class StoreWriteQueue<TContext>
{
    /// <summary>How often a held batch looks again at the hold and at what was queued meanwhile.</summary>
    public static readonly TimeSpan HoldPoll = TimeSpan.FromMilliseconds(2);

    private Func<bool>? _busy;
    private Action<int>? _afterHeld;
    private TimeSpan _maxHold;
    private volatile bool _closing;

    /// <summary>
    /// While <paramref name="busy"/> returns true, a batch made only of writes queued with <see cref="WriteWhenIdleAsync"/> waits (and
    /// gathers the writes that come meanwhile), at most <paramref name="maxHold"/> after the oldest of them was queued and at most until
    /// the batch is full. A write queued with <see cref="WriteAsync{T}(Func{TContext, T}, CancellationToken)"/> ends the hold at once:
    /// the batch runs in queue order with it, so the writes' order is never changed, only the moment a batch of them starts.
    /// <paramref name="busy"/> is called on the writer's loop only, never concurrently with itself. <paramref name="afterHeld"/>
    /// (if any) is given the number of writes of each held batch that committed, on the writer's loop, outside any transaction and
    /// under the connection's gate, when no other write is waiting: the store's housekeeping (a WAL checkpoint) goes there, after a
    /// fan-out's results, instead of into whichever commit crosses a threshold (a fan-out's pushes).
    /// </summary>
    public void HoldWhile(Func<bool> busy, TimeSpan maxHold, Action<int>? afterHeld = null)
    {
        ArgumentNullException.ThrowIfNull(busy);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHold, TimeSpan.Zero);
        _maxHold = maxHold;
        _afterHeld = afterHeld;
        Volatile.Write(ref _busy, busy);
    }

    /// <summary>
    /// <see cref="WriteAsync{T}(Func{TContext, T}, CancellationToken)"/> for a write that may wait while the queue is held
    /// (<see cref="HoldWhile"/>): its task completes after its transaction committed, as any write's.
    /// </summary>
    public Task<T> WriteWhenIdleAsync<T>(Func<TContext, T> write, CancellationToken cancellationToken = default) => Enqueue(write, mayWait: true, cancellationToken);

    // why: returns whether the batch was held at all (then it gathered already).
    private async ValueTask<bool> HoldAsync(ChannelReader<Write> reader, List<Write> batch)
    {
        if (Volatile.Read(ref _busy) is not { } busy || !AllMayWait(batch, 0))
        {
            return false;
        }

        var held = false;
        while (!_closing && batch.Count < MaxBatch && _gatherClock.GetElapsedTime(batch[0].QueuedAt) < _maxHold && busy())
        {
            held = true;
            await Task.Delay(HoldPoll, _gatherClock).ConfigureAwait(false);
            var seen = batch.Count;
            Take(reader, batch);
            if (!AllMayWait(batch, seen))
            {
                break;
            }
        }

        return held;
    }

    private void AfterHeld(ChannelReader<Write> reader, int committed)
    {
        if (committed == 0 || _afterHeld is not { } afterHeld || reader.TryPeek(out _))
        {
            return;
        }

        _connectionGate?.Enter();
        try
        {
            afterHeld(committed);
        }
        catch (Exception ex)
        {
            // why: every exception, so the writer never dies; the writes are committed already.
            Log.AfterHeldFailed(_logger, ex);
        }
        finally
        {
            _connectionGate?.Exit();
        }
    }

    private static bool AllMayWait(List<Write> batch, int from)
    {
        for (var i = from; i < batch.Count; i++)
        {
            if (!batch[i].MayWait)
            {
                return false;
            }
        }

        return true;
    }
}
