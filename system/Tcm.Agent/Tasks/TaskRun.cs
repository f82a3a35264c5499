namespace Tcm.Agent.Tasks;

/// <summary>
/// One task started on this agent (<see cref="RunningTasks.Start"/>): the one source that cancels it, for whichever reason comes
/// (the server's <c>task.cancel</c>, the agent stopping, the task's time limit), and which of them did. Dispose it when the task ended.
/// </summary>
/// <remarks>
/// why one source: a task used to take three (the server's cancel, one linked to the agent's stop, and the time limit's), with their
/// registrations, per task; a fan-out to 2,000 agents in one process made 6,000 of them a second. The reasons are kept beside it so a
/// time-out is still told apart from a cancel and a stop (a cancel or a stop outranks a time-out, as before).
/// </remarks>
internal sealed class TaskRun : IDisposable
{
    private const int ByServer = 1;
    private const int ByLimit = 2;

    private readonly RunningTasks _owner;
    private readonly CancellationTokenSource _source = new();
    private CancellationTokenRegistration _onStop;
    private int _reasons;

    internal TaskRun(RunningTasks owner, string taskId)
    {
        _owner = owner;
        TaskId = taskId;
    }

    public string TaskId { get; }

    /// <summary>Cancelled by the server's cancel, the agent's stop (<see cref="StopWith"/>) or the time limit (<see cref="CancelOnLimit"/>).</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Whether the server cancelled the task.</summary>
    public bool IsCancelled => (Volatile.Read(ref _reasons) & ByServer) != 0;

    /// <summary>Whether the task's time limit passed.</summary>
    public bool IsTimedOut => (Volatile.Read(ref _reasons) & ByLimit) != 0;

    /// <summary>Cancels the task when <paramref name="stop"/> is (at once, if it is already).</summary>
    public void StopWith(CancellationToken stop) =>
        _onStop = stop.UnsafeRegister(static state => ((TaskRun)state!).Cancel(0), this);

    /// <summary>The task's time limit passed (a timer's callback: it may come once after the task ended, and then does nothing).</summary>
    public void CancelOnLimit() => Cancel(ByLimit);

    /// <summary>The server cancelled the task; false when it had already ended.</summary>
    internal bool CancelByServer() => Cancel(ByServer);

    public void Dispose()
    {
        _onStop.Dispose();
        _owner.Remove(this);
        _source.Dispose();
    }

    private bool Cancel(int reason)
    {
        Interlocked.Or(ref _reasons, reason);
        try
        {
            _source.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }
}
