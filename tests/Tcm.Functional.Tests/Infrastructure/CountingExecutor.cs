using System.Collections.Concurrent;
using Tcm.Agent.Tasks;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// Counts how often each agent ran each task (<c>{computerName}:{taskId}</c> in <paramref name="executions"/>): "executed once" is
/// measured, not assumed. <paramref name="running"/>, when given, is told the computer name as each run starts, on the agent's own thread.
/// </summary>
internal sealed class CountingExecutor(ITaskExecutor inner, string computerName, ConcurrentDictionary<string, int> executions, Action<string>? running = null) : ITaskExecutor
{
    public ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken)
    {
        executions.AddOrUpdate($"{computerName}:{task.TaskId}", 1, (_, n) => n + 1);
        running?.Invoke(computerName);
        return inner.ExecuteAsync(task, cancellationToken);
    }

    public ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken) =>
        inner.CollectInventoryAsync(classes, cancellationToken);
}
