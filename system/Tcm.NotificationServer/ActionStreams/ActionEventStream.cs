using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Tcm.Channels.Delivery;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Admin;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.ActionStreams;

/// <summary>
/// One client's server-sent event stream of targets' state changes, of one action or of all: a <c>snapshot</c> of the action
/// first (unless the client resumes), then a <c>target</c> event per committed change, each with its id (<see cref="ActionEventLog.IdOf"/>),
/// so a client reconnecting with <c>Last-Event-ID</c> gets exactly what it missed. When the missed changes are no longer in the
/// ring (the client was away long, or too slow to keep up, or the server restarted), an action's stream sends a new
/// <c>snapshot</c> and the all-actions stream a <c>reset</c> with the reason. A comment every <see cref="HeartbeatInterval"/>
/// keeps proxies from closing an idle stream; a client that takes no bytes for <see cref="WriteDeadline"/> is dropped.
/// </summary>
internal sealed partial class ActionEventStream(
    ActionEventLog log,
    ActionLedger ledger,
    AgentDirectory directory,
    PushWindow window,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ActionEventStream> logger)
{
    /// <summary>How long a stream stays silent before it sends a comment.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>How long a client may take no bytes before it is dropped.</summary>
    public static readonly TimeSpan WriteDeadline = TimeSpan.FromSeconds(30);

    /// <summary>Most events written before one flush.</summary>
    private const int MaxBatch = 256;

    private static readonly byte[] Preamble = Encoding.UTF8.GetBytes("retry: 2000\n\n");
    private static readonly byte[] Heartbeat = Encoding.UTF8.GetBytes(": heartbeat\n\n");
    private static readonly byte[] IdField = Encoding.UTF8.GetBytes("id: ");
    private static readonly byte[] TargetEvent = Encoding.UTF8.GetBytes("\nevent: target\ndata: ");
    private static readonly byte[] SnapshotEvent = Encoding.UTF8.GetBytes("\nevent: snapshot\ndata: ");
    private static readonly byte[] ResetEvent = Encoding.UTF8.GetBytes("\nevent: reset\ndata: ");
    private static readonly byte[] EventEnd = Encoding.UTF8.GetBytes("\n\n");

    /// <summary>Streams until the client leaves, the server stops, or the client stops taking bytes.</summary>
    /// <param name="context">The request.</param>
    /// <param name="actionId">The action, or null for all.</param>
    public async Task<IResult> RunAsync(HttpContext context, string? actionId)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var ct = stopping.Token;
        using var listening = await log.ListenAsync(ct);
        string? lastEventId = context.Request.Headers["Last-Event-ID"];
        var resumed = log.ResumeAfter(lastEventId);
        var cursor = resumed;
        ActionStatus? snapshot = null;
        if (cursor is null)
        {
            // why before the snapshot: a change committed while the store is read is replayed after it, so none falls between.
            cursor = log.Last;
            if (actionId is not null && (snapshot = Snapshot(actionId)) is null)
            {
                return AdminResults.NotFound($"there is no action '{actionId}'");
            }
        }

        ServerSentEvents.Start(context);
        var body = context.Response.BodyWriter;
        using var json = new Utf8JsonWriter(body);
        body.Write(Preamble);
        var at = cursor.Value;
        if (snapshot is not null)
        {
            WriteSnapshot(body, json, at, snapshot);
        }
        else if (actionId is null && lastEventId is not null && resumed is null)
        {
            WriteReset(body, json, at, "the changes after the client's last event id are no longer kept; read the actions it follows again");
        }

        var batch = new List<(long Seq, TargetStateChange Change)>(MaxBatch);
        try
        {
            while (await FlushAsync(context, ct))
            {
                batch.Clear();
                if (log.Read(at, actionId, batch, MaxBatch) is not { } next)
                {
                    at = log.Last;
                    Log.FellBehind(logger, actionId ?? "*", ActionEventLog.Capacity);
                    if (actionId is null)
                    {
                        WriteReset(body, json, at, $"the client fell more than {ActionEventLog.Capacity} changes behind; read the actions it follows again");
                    }
                    else if (Snapshot(actionId) is { } again)
                    {
                        WriteSnapshot(body, json, at, again);
                    }

                    continue;
                }

                at = next;
                foreach (var (seq, change) in batch)
                {
                    WriteTarget(body, json, seq, change);
                }

                if (batch.Count == 0 && !await WaitAsync(at, ct))
                {
                    body.Write(Heartbeat);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client left, or the server is stopping.
        }

        return Results.Empty;
    }

    private ActionStatus? Snapshot(string actionId) =>
        ledger.Find(actionId, ComputerNameOf) is { } status ? status with { Waiting = window.WaitingFor(actionId) } : null;

    private string ComputerNameOf(string agentId) => directory.TryGet(agentId, out var agent) ? agent.ComputerName : "";

    /// <summary>Waits for a change after <paramref name="after"/>; false when the heartbeat is due first.</summary>
    private async Task<bool> WaitAsync(long after, CancellationToken ct)
    {
        try
        {
            await log.WaitAsync(after).WaitAsync(HeartbeatInterval, time, ct);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Sends what was written; false when the client is gone or took nothing for <see cref="WriteDeadline"/> (then dropped).</summary>
    private async Task<bool> FlushAsync(HttpContext context, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(WriteDeadline, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            var flushed = await context.Response.BodyWriter.FlushAsync(either.Token);
            return !flushed.IsCompleted && !flushed.IsCanceled;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            Log.SlowClientDropped(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?", WriteDeadline.TotalSeconds);
            context.Abort();
            return false;
        }
    }

    private void WriteTarget(PipeWriter body, Utf8JsonWriter json, long seq, TargetStateChange change)
    {
        WriteStart(body, seq, TargetEvent);
        var data = new ActionTargetEvent(change.ActionId, change.AgentId, ComputerNameOf(change.AgentId), change.State, change.DeliveredVia,
            Time(change.DeliveredAtMs), Time(change.CompletedAtMs), change.ExitCode, change.Output, change.OutputTruncated, change.ResultCount);
        JsonSerializer.Serialize(json, data, ActionStreamJsonContext.Default.ActionTargetEvent);
        WriteEnd(body, json);
    }

    private void WriteSnapshot(PipeWriter body, Utf8JsonWriter json, long seq, ActionStatus status)
    {
        WriteStart(body, seq, SnapshotEvent);
        JsonSerializer.Serialize(json, status, ProtocolJsonContext.Default.ActionStatus);
        WriteEnd(body, json);
    }

    private void WriteReset(PipeWriter body, Utf8JsonWriter json, long seq, string reason)
    {
        WriteStart(body, seq, ResetEvent);
        JsonSerializer.Serialize(json, new ActionStreamReset(reason), ActionStreamJsonContext.Default.ActionStreamReset);
        WriteEnd(body, json);
    }

    private void WriteStart(PipeWriter body, long seq, byte[] kind)
    {
        body.Write(IdField);
        body.Write(Encoding.UTF8.GetBytes(log.IdOf(seq)));
        body.Write(kind);
    }

    private static void WriteEnd(PipeWriter body, Utf8JsonWriter json)
    {
        json.Flush();
        json.Reset(body);
        body.Write(EventEnd);
    }

    private static DateTimeOffset? Time(long? ms) => ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;

    private static partial class Log
    {
        [LoggerMessage(EventId = 950, Level = LogLevel.Information, Message = "Action event stream ({Action}) fell more than {Capacity} changes behind; it was sent the state instead")]
        public static partial void FellBehind(ILogger logger, string action, int capacity);

        [LoggerMessage(EventId = 951, Level = LogLevel.Warning, Message = "Action event stream to {Client} dropped: the client took nothing for {Seconds} s")]
        public static partial void SlowClientDropped(ILogger logger, string client, double seconds);
    }
}
