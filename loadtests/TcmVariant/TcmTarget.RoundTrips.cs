using System.Collections.Concurrent;
using Tcm.Protocol.Admin;
using Tcm.LoadTests.TcmVariant.Client;

namespace Tcm.LoadTests.TcmVariant;

/// <summary>
/// The round trips read after the run (<see cref="IRoundTripsAfterRun"/>): a fan-out of the direct route is decided by the agents'
/// answers (results sent; the audit checks each was stored once), and each target's <c>CompletedAt</c> is read once the measured phase is over.
/// </summary>
internal sealed partial class TcmTarget : IRoundTripsAfterRun
{
    private readonly ConcurrentDictionary<TcmAgentChannel, (long Round, long Sent)> _firstRounds = new();
    private ConcurrentQueue<(string ActionId, TimeSpan Timeout)>? _roundTripsLater;
    private long _rounds;

    // why apart: a round counts on every agent of its audience having had each round before it, so the warm-up agents count their own.
    private long _warmUpRounds;

    public void ReadRoundTripsAfterRun() => Interlocked.Exchange(ref _roundTripsLater, new());

    public async Task<HistogramData> ReadRoundTripsAsync(CancellationToken cancellationToken)
    {
        var roundTrip = new LogHistogram();
        var later = Interlocked.Exchange(ref _roundTripsLater, null) ?? [];
        foreach (var (actionId, timeout) in later)
        {
            RecordRoundTrips(await Admin.GetActionAsync(actionId, cancellationToken).ConfigureAwait(false), timeout, roundTrip);
        }

        return roundTrip.ToData();
    }

    /// <summary>
    /// For fan-out <paramref name="round"/> (this target's first is 1), how many results each of <paramref name="fleet"/> has sent once
    /// it answered this one. Every round gives each agent one task, so round r is answered when the agent has sent r results since
    /// before its first round (counted from the round it joined). Why sent, not acknowledged: an agent that accepts held
    /// acknowledgements hears that its result is stored with the next push or after the server's delay (seconds later), which would
    /// stretch every round by the hold; that the server stored each result once is what the audit after the run checks
    /// (<see cref="AuditAsync"/>: complete, missing, duplicated), and each target's round trip is the server's <c>CompletedAt</c>.
    /// </summary>
    private long[] AnsweredWhen(List<TcmAgentChannel> fleet, long round)
    {
        var answered = new long[fleet.Count];
        for (var i = 0; i < fleet.Count; i++)
        {
            var (first, before) = _firstRounds.GetOrAdd(fleet[i], static (c, r) => (r, c.Agent.Counters.ResultsSent), round);
            answered[i] = before + (round - first + 1);
        }

        return answered;
    }

    /// <summary>A fan-out as the agents saw it: <paramref name="answered"/> of them sent its result.</summary>
    private static FanoutResult AsSeenByAgents(ActionCreated created, int viaChannel, int answered, long started) => new()
    {
        Sent = viaChannel,
        Echoed = Math.Min(answered, viaChannel),
        SendFailures = created.TargetCount - viaChannel,
        TimeToAllEchoedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
    };

    /// <summary>Records into <paramref name="roundTrip"/> each target's answer stored within <paramref name="timeout"/>; returns how many and the last.</summary>
    private static (int Echoed, DateTimeOffset? Last) RecordRoundTrips(ActionStatus status, TimeSpan timeout, LogHistogram roundTrip)
    {
        var cutoff = status.CreatedAt + timeout;
        var echoed = 0;
        DateTimeOffset? last = null;
        foreach (var target in status.Targets)
        {
            if (target.CompletedAt is { } completed && completed <= cutoff)
            {
                echoed++;
                roundTrip.Record(completed - status.CreatedAt < TimeSpan.Zero ? TimeSpan.Zero : completed - status.CreatedAt);
                last = last is null || completed > last ? completed : last;
            }
        }

        return (echoed, last);
    }
}
