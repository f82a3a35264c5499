namespace Tcm.Hosting.Signals;

/// <summary>
/// An auto-reset signal a loop waits on (the NS's long poll for a Task Server's work, the Task Server's forwarding to the NS); a
/// set with nobody waiting is remembered. The wait's bound runs on the injected clock.
/// </summary>
public sealed class WorkSignal
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _set;

    /// <summary>Wakes the waiter, or the next one.</summary>
    public void Set()
    {
        TaskCompletionSource current;
        lock (_gate)
        {
            _set = true;
            current = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        current.TrySetResult();
    }

    /// <summary>Returns at once when set since the last wait, else when set or after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        Task task;
        lock (_gate)
        {
            if (_set)
            {
                _set = false;
                return;
            }

            task = _next.Task;
        }

        try
        {
            await task.WaitAsync(timeout, time, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        lock (_gate)
        {
            _set = false;
        }
    }
}
