using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Connection;
using Tcm.Agent.Tasks;
using Tcm.Protocol;

namespace Tcm.Agent.Delivery;

/// <summary>
/// The agent's delivery, for both connections: pushes in (once each, acknowledged after they are saved), tasks and inventory run
/// (once each, by the <see cref="ITaskExecutor"/>), results out to the server that pushed them (over its channel, else HTTP) and kept
/// until acknowledged. The bookkeeping is the shared <see cref="DeliveryBook"/>.
/// </summary>
internal sealed partial class AgentDelivery(AgentContext agent, ITaskExecutor executor) : IDelivery
{
    /// <summary>How many follow-up polls one HTTP cycle makes while the server keeps handing out pushes (each poll acks the last).</summary>
    private const int MaxPollsPerCycle = 4;

    private readonly ILogger _logger = agent.Logger;
    private readonly RunningTasks _running = new();

    public async Task HandlePushAsync(ConnectionLoop connection, PushMessage push, AgentChannel? channel, CancellationToken ct)
    {
        agent.Counters.AddPushReceived();
        var book = agent.Book;
        // why: acknowledgements of results riding on the push (held by the server for a push to carry them) are saved with the push.
        var acknowledged = push.AckKeys is { Count: > 0 } keys && Acknowledge(keys);
        var disposition = book.Record(connection.Role, push);
        if (disposition != PushDisposition.New)
        {
            Log.DuplicatePush(_logger, push.Seq, disposition.ToString());
        }

        if (disposition != PushDisposition.DuplicateSeq || acknowledged)
        {
            await agent.SaveStateAsync(ct).ConfigureAwait(false);
        }

        if (channel is not null)
        {
            // why: a new task's result usually follows at once, and may carry this acknowledgement (a message less per task).
            var holdForResult = disposition == PushDisposition.New && push is TaskPushMessage;
            await channel.AcknowledgeAsync(book.LastReceivedSeq(connection.Role), holdForResult, ct).ConfigureAwait(false);
        }

        if (disposition != PushDisposition.New)
        {
            return;
        }

        switch (push)
        {
            case PolicyPushMessage policy:
                await agent.ApplyPolicyAsync(policy.Policy, "policy push", ct).ConfigureAwait(false);
                break;
            case TaskPushMessage task:
                Log.TaskReceived(_logger, task.TaskId, task.Command, task.Seq);
                agent.StartBackground(stop => RunTaskAsync(connection, task, stop));
                break;
            case InventoryRequestMessage inventory:
                agent.StartBackground(stop => RunInventoryAsync(connection, inventory, stop));
                break;
        }
    }

    public async Task AcknowledgeAsync(IReadOnlyList<string> idempotencyKeys, CancellationToken ct)
    {
        if (Acknowledge(idempotencyKeys))
        {
            await agent.SaveStateAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Forgets the results the server stored; true when any was still held (the state must be saved).</summary>
    private bool Acknowledge(IReadOnlyList<string> idempotencyKeys)
    {
        var any = false;
        foreach (var key in idempotencyKeys)
        {
            if (agent.Book.Acknowledge(key))
            {
                agent.Counters.AddResultAcknowledged();
                any = true;
            }
        }

        return any;
    }

    public async Task PollOverHttpAsync(ConnectionLoop connection, CancellationToken ct)
    {
        foreach (var result in agent.Book.PendingResults(connection.Role))
        {
            await PostResultOverHttpAsync(connection, result, ct).ConfigureAwait(false);
        }

        for (var poll = 0; poll < MaxPollsPerCycle; poll++)
        {
            var after = agent.Book.LastReceivedSeq(connection.Role);
            var response = (await connection.Requests.SendAsync(HttpMethod.Get, $"{TcmPaths.Tasks}?after={after}", null, null, overChannel: false, ct).ConfigureAwait(false))
                .EnsureSuccess("task poll");
            var pending = response.Read(ProtocolJsonContext.Default.PendingPushes);
            foreach (var item in pending.Items)
            {
                if (item is PushMessage push)
                {
                    await HandlePushAsync(connection, push, channel: null, ct).ConfigureAwait(false);
                }
            }

            // Polling again at once acknowledges what just arrived, so the server sees it delivered now, not one interval later.
            if (pending.Items.Count == 0)
            {
                break;
            }
        }
    }

    public void Cancel(TaskCancelMessage cancel)
    {
        var found = _running.Cancel(cancel.TaskId);
        Log.TaskCancelRequested(_logger, cancel.TaskId, cancel.Reason, found);
    }

    private async Task RunTaskAsync(ConnectionLoop connection, TaskPushMessage task, CancellationToken stop)
    {
        // why one source (TaskRun) for the server's cancel, the agent's stop and the time limit, not one each: see TaskRun.
        using var run = _running.Start(task.TaskId);
        run.StopWith(stop);
        var startedAt = agent.Time.GetUtcNow();
        TaskState state;
        TaskOutcome outcome;
        var limit = task.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(task.TimeoutSeconds) : Timeout.InfiniteTimeSpan;
        try
        {
            if (await WaitForStartAsync(connection, task, run.Token).ConfigureAwait(false) is { } notRun)
            {
                (state, outcome) = notRun;
            }
            else
            {
                startedAt = agent.Time.GetUtcNow();
                ITimer? limitTimer = null;
                try
                {
                    var execution = executor.ExecuteAsync(task, run.Token);
                    if (!execution.IsCompleted)
                    {
                        // why: the time limit is armed only for a task its executor did not finish at once: one that did needs no limit,
                        // so no timer is made and disposed for it.
                        limitTimer = limit == Timeout.InfiniteTimeSpan ? null : agent.Time.CreateTimer(static limited => ((TaskRun)limited!).CancelOnLimit(), run, limit, Timeout.InfiniteTimeSpan);
                        // why: only a task still running says so; one that finished at once lets its result say it ran (a message less per task),
                        // and carry the acknowledgement of its push (another one less), which a task that runs on sends now.
                        await SendHeldAckAsync(connection, stop).ConfigureAwait(false);
                        await SendStatusAsync(connection, new TaskStatusMessage { TaskId = task.TaskId, State = TaskState.Running, At = startedAt }, stop).ConfigureAwait(false);
                    }

                    outcome = await execution.ConfigureAwait(false);
                    state = outcome.Succeeded ? TaskState.Succeeded : TaskState.Failed;
                }
                catch (OperationCanceledException) when (run.IsTimedOut && !run.IsCancelled && !stop.IsCancellationRequested)
                {
                    state = TaskState.TimedOut;
                    outcome = new TaskOutcome(false, -1, $"timed out after {task.TimeoutSeconds} s");
                }
                finally
                {
                    limitTimer?.Dispose();
                }
            }
        }
        catch (OperationCanceledException) when (run.IsCancelled && !stop.IsCancellationRequested)
        {
            state = TaskState.Cancelled;
            outcome = new TaskOutcome(false, -1, TaskCancelMessage.ByAdministrator);
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

        var result = new TaskResultMessage
        {
            TaskId = task.TaskId,
            IdempotencyKey = $"{agent.Identity?.AgentId}:{task.TaskId}",
            State = state,
            ExitCode = outcome.ExitCode,
            Output = outcome.Output,
            StartedAt = startedAt,
            FinishedAt = agent.Time.GetUtcNow(),
        };
        Log.TaskFinished(_logger, task.TaskId, state, outcome.ExitCode);
        await KeepAndDeliverAsync(connection, result, stop).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the agent's maintenance window unless the task is urgent; returns the outcome of a task that must not run (its not-after
    /// passed, or comes before the next window), or null to run it now.
    /// </summary>
    private async Task<(TaskState, TaskOutcome)?> WaitForStartAsync(ConnectionLoop connection, TaskPushMessage task, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var now = agent.Time.GetUtcNow();
            if (task.NotAfter is { } notAfter && now > notAfter)
            {
                return (TaskState.Expired, new TaskOutcome(false, -1, $"not run: it could start at {now:O}, after its not-after {notAfter:O}"));
            }

            var opening = task.Urgent ? now : MaintenanceWindow.NextOpening(agent.Policy?.Settings.MaintenanceWindows, now);
            if (opening <= now)
            {
                return null;
            }

            if (task.NotAfter is { } limit && limit < opening)
            {
                return (TaskState.Expired, new TaskOutcome(false, -1, $"not run: its not-after {limit:O} comes before the next maintenance window at {opening:O}"));
            }

            Log.WaitingForWindow(_logger, task.TaskId, opening);
            // why: the push's acknowledgement must not wait hours for the result to carry it.
            await SendHeldAckAsync(connection, ct).ConfigureAwait(false);
            // why: the policy may change while the task waits; the loop looks at the windows again when this one opens.
            await Task.Delay(opening - now, agent.Time, ct).ConfigureAwait(false);
        }
    }

    private async Task RunInventoryAsync(ConnectionLoop connection, InventoryRequestMessage request, CancellationToken stop)
    {
        BasicInventory inventory;
        try
        {
            inventory = await executor.CollectInventoryAsync(request.Classes, stop).ConfigureAwait(false);
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
            IdempotencyKey = $"{agent.Identity?.AgentId}:{request.RequestId}",
            Inventory = inventory,
        };
        await KeepAndDeliverAsync(connection, result, stop).ConfigureAwait(false);
    }

    /// <summary>Keeps the result (persisted) until acknowledged, then sends it: over the channel, else over HTTP.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask KeepAndDeliverAsync(ConnectionLoop connection, Message result, CancellationToken ct)
    {
        agent.Book.AddResult(result, connection.Role);
        await agent.SaveStateAsync(ct).ConfigureAwait(false);
        try
        {
            agent.Counters.AddResultSent();
            if (await connection.Requests.SendOrPostAsync(result, TcmPaths.TaskResult, ct).ConfigureAwait(false) is { } response)
            {
                await AcknowledgeReceiptAsync(response.EnsureSuccess("result post"), ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is AgentProtocolException || AgentContext.IsNetworkFailure(ex, ct))
        {
            Log.ResultDeliveryDeferred(_logger, DeliveryBook.GetIdempotencyKey(result), ex.Message);
        }
    }

    private async Task PostResultOverHttpAsync(ConnectionLoop connection, Message result, CancellationToken ct)
    {
        agent.Counters.AddResultSent();
        var response = await connection.Requests.SendAsync(HttpMethod.Post, TcmPaths.TaskResult, MessageCodec.Encode(result), null, overChannel: false, ct).ConfigureAwait(false);
        await AcknowledgeReceiptAsync(response.EnsureSuccess("result post"), ct).ConfigureAwait(false);
    }

    private async Task AcknowledgeReceiptAsync(AgentResponse response, CancellationToken ct)
    {
        var receipt = response.Read(ProtocolJsonContext.Default.ResultReceipt);
        if (agent.Book.Acknowledge(receipt.IdempotencyKey))
        {
            agent.Counters.AddResultAcknowledged();
            await agent.SaveStateAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Best effort: a lost acknowledgement is made good by the next hello, poll or acknowledgement (they are cumulative).</summary>
    private static async Task SendHeldAckAsync(ConnectionLoop connection, CancellationToken ct)
    {
        if (connection.State.Channel is not { } channel)
        {
            return;
        }

        try
        {
            await channel.SendHeldAckAsync(ct).ConfigureAwait(false);
        }
        catch (AgentChannelClosedException)
        {
        }
    }

    /// <summary>Best effort: a lost status is corrected by the result.</summary>
    private async Task SendStatusAsync(ConnectionLoop connection, TaskStatusMessage status, CancellationToken ct)
    {
        try
        {
            (await connection.Requests.SendOrPostAsync(status, TcmPaths.TaskStatus, ct).ConfigureAwait(false))?.EnsureSuccess("task status post");
        }
        catch (Exception ex) when (ex is AgentProtocolException || AgentContext.IsNetworkFailure(ex, ct))
        {
            Log.StatusNotSent(_logger, status.TaskId, ex.Message);
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

        [LoggerMessage(1057, LogLevel.Information, "Task {TaskId} waits for the maintenance window opening at {Opening:O}", EventName = "WaitingForWindow")]
        public static partial void WaitingForWindow(ILogger logger, string taskId, DateTimeOffset opening);

        [LoggerMessage(1058, LogLevel.Information, "The server cancelled task {TaskId} ({Reason}); it was waiting or running here: {Found}", EventName = "TaskCancelRequested")]
        public static partial void TaskCancelRequested(ILogger logger, string taskId, string? reason, bool found);
    }
}
