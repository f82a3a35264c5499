namespace Tcm.Agent.Connection;

/// <summary>Starts work on the thread pool, as <c>Task.Run</c> does, for <see cref="AgentContext.StartBackground"/>.</summary>
/// <remarks>
/// why not <c>Task.Run</c>: every task push starts its run here, and <c>Task.Run</c> of an async delegate made a closure, a delegate,
/// a <c>Task&lt;Task&gt;</c> and an unwrapping promise per task, where this makes one state machine. The work goes to the thread pool the
/// same way, whatever context the caller has, so the caller (the receive loop) never runs it.
/// </remarks>
internal static class BackgroundWork
{
    public static async Task RunAsync(Func<CancellationToken, Task> work, CancellationToken stop)
    {
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        await work(stop).ConfigureAwait(false);
    }
}
