using Tcm.Hosting.Signals;
using Tcm.TaskServer.Agents;
using Tcm.TaskServer.Diagnostics;
using Link = Tcm.TaskServer.NotificationServerLink.NotificationServerLink;

namespace Tcm.TaskServer.NotificationServerLink;

/// <summary>
/// Drains the outbox to the NS: batches (<see cref="Link.PlanBatch"/>) sent by <paramref name="send"/> (the statuses it carries, its
/// body), several open at once, their rows dropped once answered, in order. <paramref name="written"/> is set whenever the outbox may
/// hold more.
/// </summary>
internal sealed class OutboxForwarder(TaskDelivery delivery, TsMetrics metrics, WorkSignal written, TimeProvider time, Func<int, byte[], CancellationToken, Task> send)
{
    /// <summary>
    /// Forwards the outbox in batches, oldest first, with up to <see cref="Link.ForwardsInFlight"/> requests open at once; a batch's rows
    /// leave the outbox once the NS answered it. A failure leaves every row not confirmed in the outbox (sent again after the back-off;
    /// the NS stores a result once per key and a status again changes nothing). While a request is free, entries committed meanwhile
    /// go at once rather than after the oldest request's answer.
    /// </summary>
    public async Task DrainAsync(CancellationToken stop)
    {
        var inFlight = new List<Forward>(Link.ForwardsInFlight);
        try
        {
            while (true)
            {
                while (inFlight.Count < Link.ForwardsInFlight && NextForward(inFlight, stop) is { } next)
                {
                    inFlight.Add(next);
                }

                if (inFlight.Count == 0)
                {
                    return;
                }

                var oldest = inFlight[0];
                if (inFlight.Count < Link.ForwardsInFlight && !await AnsweredOrWrittenAsync(oldest.Sending, stop).ConfigureAwait(false))
                {
                    continue;
                }

                await oldest.Sending.ConfigureAwait(false);
                inFlight.RemoveAt(0);
                delivery.RemoveFromOutbox(oldest.Ids);
                metrics.Forward(oldest.Ids.Count);
            }
        }
        finally
        {
            // why: a request still open when another failed is awaited before the loop backs off; its rows stay (sent again).
            foreach (var forward in inFlight)
            {
                try
                {
                    await forward.Sending.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or System.Text.Json.JsonException)
                {
                }
            }
        }
    }

    /// <summary>Waits until <paramref name="sending"/> is answered (true) or the outbox may hold more (false), whichever comes first.</summary>
    private async Task<bool> AnsweredOrWrittenAsync(Task sending, CancellationToken stop)
    {
        using var woken = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var more = written.WaitAsync(Link.ForwardInterval, time, woken.Token);
        var first = await Task.WhenAny(sending, more).ConfigureAwait(false);
        await woken.CancelAsync().ConfigureAwait(false);
        stop.ThrowIfCancellationRequested();
        return first == sending;
    }

    /// <summary>The next batch after those in flight, sent; null when there is none to send now.</summary>
    private Forward? NextForward(List<Forward> inFlight, CancellationToken stop)
    {
        var sending = inFlight.Sum(static f => f.Ids.Count);
        var batch = delivery.PeekOutbox(Link.BatchSize + sending);
        if (sending > 0)
        {
            var ids = inFlight.SelectMany(static f => f.Ids).ToHashSet();
            batch = [.. batch.Where(e => !ids.Contains(e.Id)).Take(Link.BatchSize)];
        }

        var statusesInFlight = inFlight.Count == 0 ? null : inFlight.SelectMany(static f => f.Statuses).ToHashSet();
        var (statuses, results) = Link.PlanBatch(batch, Link.BatchBytes, statusesInFlight);
        if (statuses.Count + results.Count == 0)
        {
            return null;
        }

        return new Forward(
            [.. statuses.Select(static s => s.Id), .. results.Select(static r => r.Id)],
            [.. statuses.Select(static s => (s.Status!.AgentId, s.Status.TaskId))],
            send(statuses.Count, TsOutbox.WriteBatch(statuses, results), stop));
    }

    /// <summary>One request to the NS: the outbox rows it carries, the tasks whose statuses it carries, and its sending.</summary>
    private sealed record Forward(List<long> Ids, List<(string AgentId, string TaskId)> Statuses, Task Sending);

}
