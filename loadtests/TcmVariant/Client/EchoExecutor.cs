using Tcm.Agent.Tasks;
using Tcm.Protocol;

namespace Tcm.LoadTests.TcmVariant.Client;

/// <summary>
/// The load test's task executor: <c>echo</c> answers at once with its <c>text</c> parameter; every task it sees is reported
/// to the current observer as delivered, <c>now - TaskPushMessage.CreatedAt</c> after the server created the push (one
/// machine, one clock).
/// </summary>
internal sealed class EchoExecutor : ITaskExecutor
{
    private readonly TimeProvider _time;
    private IPushObserver _observer = NullPushObserver.Instance;
    private long _executed;

    public EchoExecutor(TimeProvider time) => _time = time;

    /// <summary>Who hears of deliveries from now on.</summary>
    public IPushObserver Observer
    {
        get => Volatile.Read(ref _observer);
        set => Volatile.Write(ref _observer, value);
    }

    /// <summary>Tasks run so far.</summary>
    public long Executed => Interlocked.Read(ref _executed);

    public ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        Interlocked.Increment(ref _executed);
        var text = task.Parameters?.GetValueOrDefault("text") ?? "";
        var latency = _time.GetUtcNow() - task.CreatedAt;
        Observer.OnPushDelivered(latency < TimeSpan.Zero ? TimeSpan.Zero : latency, text.Length);
        return ValueTask.FromResult(new TaskOutcome(true, 0, text));
    }

    public ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new BasicInventory { ComputerName = "load", ProcessorCount = 1, CollectedAt = _time.GetUtcNow() });
}
