using Tcm.Channels.Delivery;

namespace Tcm.NotificationServer.Delivery;

/// <summary>
/// Whether a fan-out is being delivered: pushes are in flight (written to channels, not yet acknowledged) and the count still moves
/// (acknowledgements come in, or more pushes go out) within <see cref="Quiet"/>. While it is, the store holds back the results'
/// writes (<see cref="Tcm.Hosting.Storage.StoreWriteQueue{TContext}.HoldWhile"/>), so the results of a fan-out's first agents do
/// not take the cores from the sends and receipts of its last ones; they are stored after, in fewer and larger transactions.
/// A few agents that never acknowledge hold nothing back for longer than <see cref="Quiet"/>.
/// </summary>
/// <param name="window">The window whose in-flight count is watched.</param>
/// <param name="clock">The real clock: it only decides when a batch of writes starts.</param>
internal sealed class DeliveryBurst(PushWindow window, TimeProvider clock)
{
    /// <summary>How long the in-flight count may stand still before the delivery counts as over.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(50);

    /// <summary>Most a result's write waits for a delivery to end (from its queueing).</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromMilliseconds(250);

    private long _lastInFlight;
    private long _movedAt;

    /// <summary>Called by the store's writer loop only (never concurrently).</summary>
    public bool IsOn()
    {
        var inFlight = window.InFlight;
        if (inFlight == 0)
        {
            _lastInFlight = 0;
            return false;
        }

        if (inFlight != _lastInFlight)
        {
            _lastInFlight = inFlight;
            _movedAt = clock.GetTimestamp();
            return true;
        }

        return clock.GetElapsedTime(_movedAt) < Quiet;
    }
}
