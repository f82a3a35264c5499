using System.Collections.Concurrent;

namespace Tcm.Agent.Tasks;

/// <summary>
/// The tasks this agent has started and not finished (waiting for a maintenance window or running), each with the source that cancels it
/// when the server sends <c>task.cancel</c>. A cancel for a task not here is remembered (the last <see cref="RememberedCancels"/>): the
/// cancel goes straight to the channel while the task's push may still wait for room behind other pushes, and must not run when it comes.
/// </summary>
internal sealed class RunningTasks
{
    /// <summary>How many cancels of tasks not (yet) here are remembered.</summary>
    public const int RememberedCancels = 256;

    private readonly ConcurrentDictionary<string, CancellationTokenSource> _tasks = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly HashSet<string> _cancelledEarly = new(StringComparer.Ordinal);
    private readonly Queue<string> _cancelledOrder = new();

    /// <summary>Registers <paramref name="taskId"/>, already cancelled when a cancel came first; dispose the result when the task ended.</summary>
    public Registration Start(string taskId)
    {
        var source = new CancellationTokenSource();
        lock (_lock)
        {
            _tasks[taskId] = source;
            if (_cancelledEarly.Contains(taskId))
            {
                source.Cancel();
            }
        }

        return new Registration(this, taskId, source);
    }

    /// <summary>Cancels <paramref name="taskId"/>; false when it is not waiting or running here.</summary>
    public bool Cancel(string taskId)
    {
        CancellationTokenSource? source;
        lock (_lock)
        {
            if (!_tasks.TryGetValue(taskId, out source))
            {
                Remember(taskId);
                return false;
            }
        }

        try
        {
            source.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    private void Remember(string taskId)
    {
        if (!_cancelledEarly.Add(taskId))
        {
            return;
        }

        _cancelledOrder.Enqueue(taskId);
        if (_cancelledOrder.Count > RememberedCancels)
        {
            _cancelledEarly.Remove(_cancelledOrder.Dequeue());
        }
    }

    /// <summary>One started task: its cancellation, removed and disposed at the end.</summary>
    public readonly struct Registration(RunningTasks owner, string taskId, CancellationTokenSource source) : IDisposable
    {
        /// <summary>Cancelled by <see cref="Cancel"/>.</summary>
        public CancellationToken Token => source.Token;

        /// <summary>Whether the server cancelled the task.</summary>
        public bool IsCancelled => source.IsCancellationRequested;

        /// <inheritdoc/>
        public void Dispose()
        {
            owner._tasks.TryRemove(new KeyValuePair<string, CancellationTokenSource>(taskId, source));
            source.Dispose();
        }
    }
}
