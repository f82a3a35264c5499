using System.Globalization;
using System.Security.Cryptography;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.ActionStreams;

/// <summary>
/// The targets' committed state changes, numbered in commit order, the last <see cref="Capacity"/> of them kept in one ring
/// that every event stream reads with its own cursor. Why a ring in memory and not the store: the changes are already
/// committed where they belong (<c>action_targets</c>), and writing each one again as an event row would add a write per
/// change to every fan-out whether anyone watches or not; what a ring cannot replay (a cursor older than the ring, or from
/// before a restart, told by <see cref="Epoch"/>) a stream answers with the action's state read from the store, so a
/// reconnecting client loses no state. A stream holds a cursor, not a queue: a slow client costs no memory, it falls behind
/// the ring and is given the state instead of the changes it missed.
/// </summary>
internal sealed class ActionEventLog
{
    /// <summary>How many changes the ring keeps (a fan-out to 10,000 agents makes two or three per agent).</summary>
    public const int Capacity = 32_768;

    private readonly Lock _gate = new();
    private readonly TargetStateChange[] _ring = new TargetStateChange[Capacity];
    private long _last;
    private TaskCompletionSource _appended = NewSignal();

    /// <summary>This process's life: event ids from another life (before a restart) cannot be replayed.</summary>
    public string Epoch { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>The number of the last change (0: none yet).</summary>
    public long Last
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    /// <summary>The event id of change <paramref name="seq"/>: <c>{epoch}-{seq}</c>.</summary>
    public string IdOf(long seq) => string.Create(CultureInfo.InvariantCulture, $"{Epoch}-{seq}");

    /// <summary>The change after which a client that last saw <paramref name="lastEventId"/> resumes; null when it cannot be replayed.</summary>
    public long? ResumeAfter(string? lastEventId)
    {
        if (lastEventId is null || !lastEventId.StartsWith(Epoch + "-", StringComparison.Ordinal)
            || !long.TryParse(lastEventId.AsSpan(Epoch.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            return null;
        }

        lock (_gate)
        {
            return seq <= _last && seq >= Oldest() - 1 ? seq : null;
        }
    }

    /// <summary>Adds committed changes in their order and wakes the streams (the ledger calls it, <see cref="Actions.ActionLedger.OnTargetsChanged"/>).</summary>
    public void Append(IReadOnlyList<TargetStateChange> changes)
    {
        TaskCompletionSource appended;
        lock (_gate)
        {
            foreach (var change in changes)
            {
                _last++;
                _ring[_last % Capacity] = change;
            }

            appended = _appended;
            _appended = NewSignal();
        }

        appended.TrySetResult();
    }

    /// <summary>
    /// Up to <paramref name="max"/> changes after <paramref name="after"/> (of one action, or all when <paramref name="actionId"/>
    /// is null) into <paramref name="into"/>; returns the cursor to read from next (past changes of other actions too), or null
    /// when changes after <paramref name="after"/> have already left the ring.
    /// </summary>
    public long? Read(long after, string? actionId, List<(long Seq, TargetStateChange Change)> into, int max)
    {
        lock (_gate)
        {
            if (after < Oldest() - 1)
            {
                return null;
            }

            var seq = after;
            while (seq < _last && into.Count < max)
            {
                seq++;
                var change = _ring[seq % Capacity];
                if (actionId is null || string.Equals(change.ActionId, actionId, StringComparison.Ordinal))
                {
                    into.Add((seq, change));
                }
            }

            return seq;
        }
    }

    /// <summary>Completes when a change after <paramref name="after"/> is in the ring.</summary>
    public Task WaitAsync(long after)
    {
        lock (_gate)
        {
            return _last > after ? Task.CompletedTask : _appended.Task;
        }
    }

    private long Oldest() => Math.Max(1, _last - Capacity + 1);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
