using Microsoft.Extensions.Logging;
using Tcm.Agent.Connection;
using Tcm.Agent.Status;
using Tcm.Agent.Tasks;
using Tcm.Protocol;

namespace Tcm.Agent;

// Delivery: pushes in (once each), tasks run (once each), results out (until acknowledged).
public sealed partial class TcmAgent
{
    /// <summary>How many follow-up polls one HTTP cycle makes while the server keeps handing out pushes (each poll acks the last).</summary>
    private const int MaxPollsPerCycle = 4;

    /// <summary>Records a push (persisted before the ack), acks it on the channel, then acts on it if it is new.</summary>
    private async Task HandlePushAsync(ServerConnection conn, PushMessage push, AgentChannel? channel, CancellationToken ct)
    {
        Counters.AddPushReceived();
        var disposition = _book.Record(conn.Role, push);
        if (disposition != PushDisposition.New)
        {
            Log.DuplicatePush(_logger, push.Seq, disposition.ToString());
        }

        if (disposition != PushDisposition.DuplicateSeq)
        {
            await SaveStateAsync(ct).ConfigureAwait(false);
        }

        if (channel is not null)
        {
            await channel.SendAsync(new AckMessage { UpToSeq = _book.LastReceivedSeq(conn.Role) }, ct).ConfigureAwait(false);
        }

        if (disposition != PushDisposition.New)
        {
            return;
        }

        switch (push)
        {
            case PolicyPushMessage policy:
                await ApplyPolicyAsync(policy.Policy, "policy push", ct).ConfigureAwait(false);
                break;
            case TaskPushMessage task:
                Log.TaskReceived(_logger, task.TaskId, task.Command, task.Seq);
                StartBackground(stop => RunTaskAsync(conn, task, stop));
                break;
            case InventoryRequestMessage inventory:
                StartBackground(stop => RunInventoryAsync(conn, inventory, stop));
                break;
        }
    }

    /// <summary>
    /// One HTTP cycle: deliver pending results, fetch pending pushes (acknowledging what was received), and post the Network Status
    /// with an event when it changed.
    /// </summary>
    private async Task PollOverHttpAsync(ServerConnection conn, CancellationToken ct)
    {
        await DeliverPendingResultsOverHttpAsync(conn, ct).ConfigureAwait(false);
        for (var poll = 0; poll < MaxPollsPerCycle; poll++)
        {
            var after = _book.LastReceivedSeq(conn.Role);
            var response = (await SendHttpAsync(conn, HttpMethod.Get, $"{TcmPaths.Tasks}?after={after}", null, ct).ConfigureAwait(false)).EnsureSuccess("task poll");
            var pending = response.Read(ProtocolJsonContext.Default.PendingPushes);
            foreach (var item in pending.Items)
            {
                if (item is PushMessage push)
                {
                    await HandlePushAsync(conn, push, channel: null, ct).ConfigureAwait(false);
                }
            }

            // Polling again at once acknowledges what just arrived, so the server sees it delivered now, not one interval later.
            if (pending.Items.Count == 0)
            {
                break;
            }
        }

        if (conn.Role == ChannelRole.NotificationServer)
        {
            await PostNetworkStatusIfChangedAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task PostNetworkStatusIfChangedAsync(CancellationToken ct)
    {
        var status = GetNetworkStatus();
        var comparable = NetworkStatusMapper.WithoutCounters(status);
        lock (_gate)
        {
            if (comparable == _lastPostedStatus)
            {
                return;
            }
        }

        var batch = new EventBatch
        {
            Events = [new AgentEvent { Type = "network-status-changed", At = _time.GetUtcNow() }],
            NetworkStatus = status,
        };
        (await SendRequestAsync(HttpMethod.Post, TcmPaths.Events, AgentTransport.Serialize(batch, ProtocolJsonContext.Default.EventBatch), null, ct).ConfigureAwait(false))
            .EnsureSuccess("event post");
        lock (_gate)
        {
            _lastPostedStatus = comparable;
        }
    }

    private async Task RunTaskAsync(ServerConnection conn, TaskPushMessage task, CancellationToken stop)
    {
        var startedAt = _time.GetUtcNow();
        await SendStatusAsync(conn, new TaskStatusMessage { TaskId = task.TaskId, State = TaskState.Running, At = startedAt }, stop).ConfigureAwait(false);

        TaskState state;
        TaskOutcome outcome;
        var limit = task.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(task.TimeoutSeconds) : Timeout.InfiniteTimeSpan;
        using (var timeout = new CancellationTokenSource(limit, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token))
        {
            try
            {
                outcome = await _executor.ExecuteAsync(task, linked.Token).ConfigureAwait(false);
                state = outcome.Succeeded ? TaskState.Succeeded : TaskState.Failed;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stop.IsCancellationRequested)
            {
                state = TaskState.TimedOut;
                outcome = new TaskOutcome(false, -1, $"timed out after {task.TimeoutSeconds} s");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The agent is stopping: no result; the task id stays recorded so it never runs twice.
                Log.TaskAbandoned(_logger, task.TaskId);
                return;
            }
            catch (Exception ex)
            {
                state = TaskState.Failed;
                outcome = new TaskOutcome(false, -1, $"the task failed: {ex.GetType().Name}: {ex.Message}");
            }
        }

        var result = new TaskResultMessage
        {
            TaskId = task.TaskId,
            IdempotencyKey = $"{AgentId}:{task.TaskId}",
            State = state,
            ExitCode = outcome.ExitCode,
            Output = outcome.Output,
            StartedAt = startedAt,
            FinishedAt = _time.GetUtcNow(),
        };
        Log.TaskFinished(_logger, task.TaskId, state, outcome.ExitCode);
        await KeepAndDeliverAsync(conn, result, stop).ConfigureAwait(false);
    }

    private async Task RunInventoryAsync(ServerConnection conn, InventoryRequestMessage request, CancellationToken stop)
    {
        BasicInventory inventory;
        try
        {
            inventory = await _executor.CollectInventoryAsync(request.Classes, stop).ConfigureAwait(false);
        }
        catch (Exception ex) when (!stop.IsCancellationRequested)
        {
            // The protocol has no failed inventory result; the request stays visible as delivered without a result.
            Log.InventoryFailed(_logger, request.RequestId, ex);
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var result = new InventoryResultMessage
        {
            RequestId = request.RequestId,
            IdempotencyKey = $"{AgentId}:{request.RequestId}",
            Inventory = inventory,
        };
        await KeepAndDeliverAsync(conn, result, stop).ConfigureAwait(false);
    }

    /// <summary>Keeps the result (persisted) until acknowledged, then sends it: over the channel, else over HTTP.</summary>
    private async Task KeepAndDeliverAsync(ServerConnection conn, Message result, CancellationToken ct)
    {
        _book.AddResult(result, conn.Role);
        await SaveStateAsync(ct).ConfigureAwait(false);
        if (conn.Channel is { } channel)
        {
            try
            {
                await channel.SendAsync(result, ct).ConfigureAwait(false);
                Counters.AddResultSent();
                return;
            }
            catch (AgentChannelClosedException)
            {
                // Dropped under us: HTTP now; a reconnect would re-send it anyway and the server stores it once.
            }
        }

        try
        {
            await PostResultOverHttpAsync(conn, result, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AgentProtocolException || IsNetworkFailure(ex, ct))
        {
            Log.ResultDeliveryDeferred(_logger, DeliveryBook.GetIdempotencyKey(result), ex.Message);
        }
    }

    private async Task DeliverPendingResultsOverHttpAsync(ServerConnection conn, CancellationToken ct)
    {
        foreach (var result in _book.PendingResults(conn.Role))
        {
            await PostResultOverHttpAsync(conn, result, ct).ConfigureAwait(false);
        }
    }

    private async Task PostResultOverHttpAsync(ServerConnection conn, Message result, CancellationToken ct)
    {
        Counters.AddResultSent();
        var response = (await SendHttpAsync(conn, HttpMethod.Post, TcmPaths.TaskResult, MessageCodec.Encode(result), ct).ConfigureAwait(false)).EnsureSuccess("result post");
        var receipt = response.Read(ProtocolJsonContext.Default.ResultReceipt);
        if (_book.Acknowledge(receipt.IdempotencyKey))
        {
            Counters.AddResultAcknowledged();
            await SaveStateAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Best effort: a lost status is corrected by the result.</summary>
    private async Task SendStatusAsync(ServerConnection conn, TaskStatusMessage status, CancellationToken ct)
    {
        try
        {
            if (conn.Channel is { } channel)
            {
                try
                {
                    await channel.SendAsync(status, ct).ConfigureAwait(false);
                    return;
                }
                catch (AgentChannelClosedException)
                {
                }
            }

            (await SendHttpAsync(conn, HttpMethod.Post, TcmPaths.TaskStatus, MessageCodec.Encode(status), ct).ConfigureAwait(false)).EnsureSuccess("task status post");
        }
        catch (Exception ex) when (ex is AgentProtocolException || IsNetworkFailure(ex, ct))
        {
            Log.StatusNotSent(_logger, status.TaskId, ex.Message);
        }
    }

    /// <summary>A plain HTTP request (the endpoints that have no channel equivalent: task poll, status and result posts).</summary>
    private async Task<AgentResponse> SendHttpAsync(ServerConnection conn, HttpMethod method, string pathAndQuery, byte[]? body, CancellationToken ct)
    {
        AgentRoute? route;
        lock (_gate)
        {
            route = conn.Route;
        }

        route ??= conn.Role == ChannelRole.NotificationServer
            ? UpdateRoute()
            : throw new AgentChannelClosedException("no Task Server to deliver to yet");
        var transport = TransportFor(conn, route);
        try
        {
            var response = await transport.SendAsync(method, route.For(pathAndQuery), body, null, _time, _options.RequestTimeout, ct).ConfigureAwait(false);
            SetReachable(conn, true);
            return response;
        }
        catch (Exception ex) when (IsNetworkFailure(ex, ct))
        {
            SetReachable(conn, false);
            throw;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1050, LogLevel.Debug, "Task {TaskId} ({Command}) received, seq {Seq}", EventName = "TaskReceived")]
        public static partial void TaskReceived(ILogger logger, string taskId, string command, long seq);

        [LoggerMessage(1051, LogLevel.Debug, "Push seq {Seq} acknowledged but not acted on: {Disposition}", EventName = "DuplicatePush")]
        public static partial void DuplicatePush(ILogger logger, long seq, string disposition);

        [LoggerMessage(1052, LogLevel.Debug, "Task {TaskId} finished: {State}, exit code {ExitCode}", EventName = "TaskFinished")]
        public static partial void TaskFinished(ILogger logger, string taskId, TaskState state, int exitCode);

        [LoggerMessage(1053, LogLevel.Debug, "Result {IdempotencyKey} kept for later delivery: {Reason}", EventName = "ResultDeliveryDeferred")]
        public static partial void ResultDeliveryDeferred(ILogger logger, string? idempotencyKey, string reason);

        [LoggerMessage(1054, LogLevel.Warning, "Inventory request {RequestId} failed", EventName = "InventoryFailed")]
        public static partial void InventoryFailed(ILogger logger, string requestId, Exception exception);

        [LoggerMessage(1055, LogLevel.Debug, "Status of task {TaskId} not sent: {Reason}", EventName = "StatusNotSent")]
        public static partial void StatusNotSent(ILogger logger, string taskId, string reason);

        [LoggerMessage(1056, LogLevel.Information, "Task {TaskId} abandoned: the agent is stopping", EventName = "TaskAbandoned")]
        public static partial void TaskAbandoned(ILogger logger, string taskId);
    }
}
