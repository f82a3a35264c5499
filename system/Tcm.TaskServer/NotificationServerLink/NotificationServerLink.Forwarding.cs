using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Tcm.Protocol;
using Tcm.TaskServer.Agents;

namespace Tcm.TaskServer.NotificationServerLink;

/// <summary>The link's forward of the outbox to the NS: one request, and the order a batch keeps (<see cref="OutboxForwarder"/> sends them).</summary>
internal sealed partial class NotificationServerLink
{
    private async Task ForwardAsync(int statuses, byte[] batch, CancellationToken stop)
    {
        var response = await Tcm.Hosting.Registration.SiteServerHttp.PostAsync(_client, new Uri(Node.Url, TaskServerPaths.Results).ToString(), batch, TimeSpan.FromSeconds(30), _time, stop).ConfigureAwait(false);
        using (response)
        {
            SetReachable(true);

            // why: the receipts only feed the debug line; an entry leaves the outbox on the NS's success answer, as before, and the
            // NS keeps what it refused out of the receipts. Parsing them per batch was a visible share of the Task Server's CPU.
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                var receipts = await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.TaskServerResultReceipts, stop).ConfigureAwait(false);
                Log.ResultsForwarded(_logger, statuses, receipts?.Receipts.Count ?? 0, receipts?.Refused.Count ?? 0);
            }
            else
            {
                await response.Content.CopyToAsync(Stream.Null, stop).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Splits the head of the outbox into the statuses and the results of one request (the NS applies its statuses first). Outbox
    /// entries may interleave (status, result, status, result, ...); sending runs of one kind made that one request per item. What
    /// must hold is per task: a status never arrives after the result that follows it. So the batch is cut before any status of a
    /// task whose result it already holds; its statuses go first, its results second (outbox order within each). It is also cut
    /// before the entry that would take it past <paramref name="maxBytes"/> (but holds one entry at least), and before a result of a
    /// task whose status is in a request still open (<paramref name="statusesInFlight"/>), which the NS may read after this one.
    /// </summary>
    internal static (List<OutboxEntry> Statuses, List<OutboxEntry> Results) PlanBatch(
        IReadOnlyList<OutboxEntry> batch, int maxBytes = BatchBytes, IReadOnlySet<(string AgentId, string TaskId)>? statusesInFlight = null)
    {
        var statuses = new List<OutboxEntry>();
        var results = new List<OutboxEntry>();
        var resulted = new HashSet<(string AgentId, string TaskId)>();
        long bytes = 0;
        foreach (var entry in batch)
        {
            bytes += entry.Bytes;
            if (bytes > maxBytes && statuses.Count + results.Count > 0)
            {
                break;
            }

            if (entry.Status is { } status)
            {
                if (resulted.Contains((status.AgentId, status.TaskId)))
                {
                    break;
                }

                statuses.Add(entry);
            }
            else
            {
                if (ResultKey(entry.Result!) is { } key)
                {
                    if (statusesInFlight?.Contains((entry.Result!.AgentId, key)) == true)
                    {
                        break;
                    }

                    resulted.Add((entry.Result!.AgentId, key));
                }

                results.Add(entry);
            }
        }

        return (statuses, results);
    }

    /// <summary>The task a result answers (the request id for inventory), or null for a result of another kind.</summary>
    private static string? ResultKey(TaskServerResultItem item) => item.Result switch
    {
        TaskResultMessage task => task.TaskId,
        InventoryResultMessage inventory => inventory.RequestId,
        _ => null,
    };
}
