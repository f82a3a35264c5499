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

    // why: one per agent, and a simulator holds thousands of agents that run nothing: empty collections allocate no storage.
    private readonly Dictionary<string, CancellationTokenSource> _tasks = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly RecentIds _cancelledEarly = new(RememberedCancels);

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
                _cancelledEarly.Add(taskId);
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
            lock (owner._lock)
            {
                if (owner._tasks.TryGetValue(taskId, out var current) && ReferenceEquals(current, source))
                {
                    owner._tasks.Remove(taskId);
                }
            }

            source.Dispose();
        }
    }
}
