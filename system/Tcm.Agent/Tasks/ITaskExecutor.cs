using Tcm.Protocol;

namespace Tcm.Agent.Tasks;

/// <summary>
/// Runs what the server pushes. The real agent uses <see cref="BuiltInTaskExecutor"/> (echo, sleep, basic inventory from the OS);
/// the simulator plugs in its own (simulated duration, failure rate, generated inventory).
/// </summary>
public interface ITaskExecutor
{
    /// <summary>Runs a task. Cancellation means the task's timeout elapsed or the agent is stopping.</summary>
    ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken);

    /// <summary>Collects inventory (basic inventory when <paramref name="classes"/> is empty).</summary>
    ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken);
}

/// <summary>The outcome of a task: succeeded or failed, an exit code and some output.</summary>
public sealed record TaskOutcome(bool Succeeded, int ExitCode, string? Output);
