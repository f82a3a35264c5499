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
/// <para>
/// Changes are heard only while a stream is open and for <see cref="Linger"/> after the last one left (<see cref="ListenAsync"/>), so a
/// fan-out with nobody watching pays nothing for the streams. A client back within the linger replays what it missed; later, the log
/// heard nothing for a while, so it starts a new <see cref="Epoch"/> and the client gets the state, as after a restart.
/// </para>
/// </summary>
internal sealed class ActionEventLog
{
    /// <summary>How many changes the ring keeps (a fan-out to 10,000 agents makes two or three per agent).</summary>
    public const int Capacity = 32_768;

    /// <summary>How long changes are still heard after the last stream closed: a client reconnecting (every 2 s) resumes where it was.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly TargetStateChange[] _ring = new TargetStateChange[Capacity];
    private readonly Func<bool, CancellationToken, Task>? _hear;
    private readonly TimeProvider _time;
    private long _last;
    private TaskCompletionSource _appended = NewSignal();
    private string _epoch = NewEpoch();
    private int _listeners;
    private Task? _hearing;
    private ITimer? _linger;

    /// <summary>A log that hears every change, streams or not.</summary>
    public ActionEventLog()
        : this(null, TimeProvider.System)
    {
    }

    /// <summary>
    /// A log that turns the hearing of changes on with <paramref name="hear"/> (true; it completes once no change can fall between
    /// what it heard and a read of the store started after) while streams need them, and off (false) the rest of the time; off at first.
    /// </summary>
    public ActionEventLog(Func<bool, CancellationToken, Task>? hear, TimeProvider time)
    {
        _hear = hear;
        _time = time;
        _hearing = hear is null ? Task.CompletedTask : null;
        hear?.Invoke(false, CancellationToken.None);
    }

    /// <summary>This process's life, or the part of it since changes were last heard again: event ids from another cannot be replayed.</summary>
    public string Epoch
    {
        get
        {
            lock (_gate)
            {
                return _epoch;
            }
        }
    }

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
        var epoch = Epoch;
        if (lastEventId is null || !lastEventId.StartsWith(epoch + "-", StringComparison.Ordinal)
            || !long.TryParse(lastEventId.AsSpan(epoch.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            return null;
        }

        lock (_gate)
        {
            return seq <= _last && seq >= Oldest() - 1 && string.Equals(epoch, _epoch, StringComparison.Ordinal) ? seq : null;
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

    /// <summary>
    /// Hears changes from now until the returned lease is disposed (a stream's life) and <see cref="Linger"/> after: call it before
    /// <see cref="ResumeAfter"/> and <see cref="Last"/>, which it may change.
    /// </summary>
    public async Task<IDisposable> ListenAsync(CancellationToken cancellationToken)
    {
        Task hearing;
        lock (_gate)
        {
            _listeners++;
            _linger?.Dispose();
            _linger = null;
            if (_hearing is null)
            {
                // why a new epoch: what changed while nobody listened is not in the ring, so no id from before can be replayed.
                _epoch = NewEpoch();
                _hearing = _hear!(true, CancellationToken.None);
            }

            hearing = _hearing;
        }

        var lease = new Lease(this);
        try
        {
            await hearing.WaitAsync(cancellationToken).ConfigureAwait(false);
            return lease;
        }
        catch
        {
            lock (_gate)
            {
                if (ReferenceEquals(_hearing, hearing) && hearing.IsFaulted)
                {
                    _hearing = null;
                }
            }

            lease.Dispose();
            throw;
        }
    }

    private void Leave()
    {
        lock (_gate)
        {
            if (--_listeners > 0 || _hear is null)
            {
                return;
            }

            _linger?.Dispose();
            ITimer? timer = null;
            timer = _linger = _time.CreateTimer(_ => StopHearing(timer!), null, Linger, Timeout.InfiniteTimeSpan);
        }
    }

    private void StopHearing(ITimer timer)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_linger, timer) || _listeners > 0)
            {
                return;
            }

            _linger.Dispose();
            _linger = null;
            _hearing = null;
            _hear!(false, CancellationToken.None);
        }
    }

    private long Oldest() => Math.Max(1, _last - Capacity + 1);

    private static string NewEpoch() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    private sealed class Lease(ActionEventLog log) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                log.Leave();
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
