namespace Tcm.Agent.Tasks;

/// <summary>
/// The tasks this agent has started and not finished (waiting for a maintenance window or running), each with its <see cref="TaskRun"/>,
/// which <c>task.cancel</c> cancels. A cancel for a task not here is remembered (the last <see cref="RememberedCancels"/>): the cancel goes
/// straight to the channel while the task's push may still wait for room behind other pushes, and must not run when it comes.
/// </summary>
internal sealed class RunningTasks
{
    /// <summary>How many cancels of tasks not (yet) here are remembered.</summary>
    public const int RememberedCancels = 256;

    // why: one per agent, and a simulator holds thousands of agents that are idle between tasks and never see an early cancel. An agent
    // mostly has one task at a time: it sits in a field of its own, so neither one task nor an idle agent holds a map (a map made and
    // dropped per task was one of the largest allocations of a fan-out to 2,000 agents in one process); the map exists only while two
    // or more are here, the remembered cancels from the first early one.
    private readonly Lock _lock = new();
    private TaskRun? _sole;
    private Dictionary<string, TaskRun>? _more;
    private RecentIds? _cancelledEarly;

    /// <summary>Whether any task, the map of tasks or the remembered cancels are held (for tests: an idle agent holds none).</summary>
    internal bool HoldsStorage
    {
        get { lock (_lock) { return _sole is not null || _more is not null || _cancelledEarly is not null; } }
    }

    /// <summary>Registers <paramref name="taskId"/>, already cancelled when a cancel came first; dispose the result when the task ended.</summary>
    public TaskRun Start(string taskId)
    {
        var run = new TaskRun(this, taskId);
        lock (_lock)
        {
            if (_sole is null)
            {
                _sole = run;
            }
            else
            {
                (_more ??= new Dictionary<string, TaskRun>(StringComparer.Ordinal))[taskId] = run;
            }

            if (_cancelledEarly?.Contains(taskId) == true)
            {
                run.CancelByServer();
            }
        }

        return run;
    }

    /// <summary>Cancels <paramref name="taskId"/>; false when it is not waiting or running here.</summary>
    public bool Cancel(string taskId)
    {
        TaskRun? run;
        lock (_lock)
        {
            run = _sole?.TaskId == taskId ? _sole : _more?.GetValueOrDefault(taskId);
            if (run is null)
            {
                (_cancelledEarly ??= new RecentIds(RememberedCancels)).Add(taskId);
                return false;
            }
        }

        return run.CancelByServer();
    }

    /// <summary>A task ended: it is here no more.</summary>
    internal void Remove(TaskRun run)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_sole, run))
            {
                _sole = null;
            }
            else if (_more is { } more && more.TryGetValue(run.TaskId, out var current) && ReferenceEquals(current, run))
            {
                more.Remove(run.TaskId);
                if (more.Count == 0)
                {
                    _more = null;
                }
            }
        }
    }
}
