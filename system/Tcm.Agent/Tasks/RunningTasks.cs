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

    // why: one per agent, and a simulator holds thousands of agents that are idle between tasks and never see an early cancel: the
    // map exists only while a task is here (an emptied dictionary keeps its entries), the remembered cancels from the first one.
    private readonly Lock _lock = new();
    private Dictionary<string, CancellationTokenSource>? _tasks;
    private RecentIds? _cancelledEarly;

    /// <summary>Whether the map of tasks or the remembered cancels exist (for tests: an idle agent holds neither).</summary>
    internal bool HoldsStorage
    {
        get { lock (_lock) { return _tasks is not null || _cancelledEarly is not null; } }
    }

    /// <summary>Registers <paramref name="taskId"/>, already cancelled when a cancel came first; dispose the result when the task ended.</summary>
    public Registration Start(string taskId)
    {
        var source = new CancellationTokenSource();
        lock (_lock)
        {
            (_tasks ??= new Dictionary<string, CancellationTokenSource>(StringComparer.Ordinal))[taskId] = source;
            if (_cancelledEarly?.Contains(taskId) == true)
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
            if (_tasks is null || !_tasks.TryGetValue(taskId, out source))
            {
                (_cancelledEarly ??= new RecentIds(RememberedCancels)).Add(taskId);
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
                if (owner._tasks is { } tasks && tasks.TryGetValue(taskId, out var current) && ReferenceEquals(current, source))
                {
                    tasks.Remove(taskId);
                    if (tasks.Count == 0)
                    {
                        owner._tasks = null;
                    }
                }
            }

            source.Dispose();
        }
    }
}
