using System.Collections.Concurrent;
using Tcm.Agent.Tasks;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// Counts how often each agent ran each task (<c>{computerName}:{taskId}</c> in <paramref name="executions"/>): "executed once" is
/// measured, not assumed.
/// </summary>
internal sealed class CountingExecutor(ITaskExecutor inner, string computerName, ConcurrentDictionary<string, int> executions) : ITaskExecutor
{
    public ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken)
    {
        executions.AddOrUpdate($"{computerName}:{task.TaskId}", 1, (_, n) => n + 1);
        return inner.ExecuteAsync(task, cancellationToken);
    }

    public ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken) =>
        inner.CollectInventoryAsync(classes, cancellationToken);
}
