using System.Collections.Concurrent;
using Tcm.Protocol.Admin;
using Tcm.LoadTests.TcmVariant.Client;

namespace Tcm.LoadTests.TcmVariant;

/// <summary>
/// The round trips read after the run (<see cref="IRoundTripsAfterRun"/>): a fan-out of the direct route is decided by the agents'
/// acknowledged results, and each target's <c>CompletedAt</c> is read once the measured phase is over.
/// </summary>
internal sealed partial class TcmTarget : IRoundTripsAfterRun
{
    private readonly ConcurrentDictionary<TcmAgentChannel, (long Round, long Acknowledged)> _firstRounds = new();
    private ConcurrentQueue<(string ActionId, TimeSpan Timeout)>? _roundTripsLater;
    private long _rounds;

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
    /// For fan-out <paramref name="round"/> (this target's first is 1), how many results each of <paramref name="fleet"/> has had
    /// acknowledged once it answered this one. Not "more than when the round started": an agent that accepts held acknowledgements gets
    /// the previous round's on this round's push, before it has even answered. Every round gives each agent one task, so round r is
    /// answered when the agent has r results acknowledged since before its first round (counted from the round it joined).
    /// </summary>
    private long[] AnsweredWhen(List<TcmAgentChannel> fleet, long round)
    {
        var answered = new long[fleet.Count];
        for (var i = 0; i < fleet.Count; i++)
        {
            var (first, before) = _firstRounds.GetOrAdd(fleet[i], static (c, r) => (r, c.Agent.Counters.ResultsAcknowledged), round);
            answered[i] = before + (round - first + 1);
        }

        return answered;
    }

    /// <summary>A fan-out as the agents saw it: <paramref name="acknowledged"/> of them had a result acknowledged since it started.</summary>
    private static FanoutResult AsSeenByAgents(ActionCreated created, int viaChannel, int acknowledged, long started) => new()
    {
        Sent = viaChannel,
        Echoed = Math.Min(acknowledged, viaChannel),
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
