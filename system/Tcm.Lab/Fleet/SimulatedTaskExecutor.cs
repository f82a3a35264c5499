using System.Globalization;
using System.Text;
using Tcm.Agent.Network;
using Tcm.Agent.Tasks;
using Tcm.Protocol;
using Tcm.Lab.Network;

namespace Tcm.Lab.Fleet;

/// <summary>
/// The lab's <see cref="ITaskExecutor"/> for virtual agents: tasks take the group's simulated duration (on the run's <see cref="TimeProvider"/>)
/// and fail at the group's failure rate; inventory comes from the <see cref="AgentSpec"/>. Outcomes are seeded by
/// (agent seed, task id), so a re-run with the same seed makes the same agents fail the same tasks, in any order.
/// Commands: <c>echo</c> (output = <c>text</c> parameter, immediate), <c>sleep</c> (<c>seconds</c> or <c>duration</c>), <c>fail</c>
/// (always fails), <c>inventory</c> (collects inventory); any other name runs for the group's duration. Parameters
/// <c>duration</c> (like <c>2s</c>) and <c>failureRate</c> (like <c>10%</c>) override the group's behaviour for that task.
/// </summary>
public sealed class SimulatedTaskExecutor : ITaskExecutor
{
    private readonly AgentSpec _agent;
    private readonly TimeProvider _time;
    private readonly INetwork? _network;
    private int _executed;

    /// <param name="agent">The agent's spec (task behaviour, inventory).</param>
    /// <param name="timeProvider">The run's clock.</param>
    /// <param name="network">When given, inventory reports the addresses of its up adapters.</param>
    public SimulatedTaskExecutor(AgentSpec agent, TimeProvider? timeProvider = null, INetwork? network = null)
    {
        _agent = agent ?? throw new ArgumentNullException(nameof(agent));
        _time = timeProvider ?? TimeProvider.System;
        _network = network;
    }

    /// <summary>How many tasks this executor has started (a task that runs twice shows here).</summary>
    public int Executed => Volatile.Read(ref _executed);

    /// <inheritdoc />
    public async ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        Interlocked.Increment(ref _executed);
        var parameters = task.Parameters ?? new Dictionary<string, string>();
        var behaviour = _agent.Task;
        var command = task.Command.ToLowerInvariant();

        TimeSpan duration = command switch
        {
            "echo" => TimeSpan.Zero,
            "inventory" => TimeSpan.FromMilliseconds(50),
            "sleep" when parameters.TryGetValue("seconds", out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var secs) => TimeSpan.FromSeconds(secs),
            _ => behaviour.Duration.Pick(Uniform(task.TaskId, 1)),
        };
        if (parameters.TryGetValue("duration", out var d) && DurationText.TryParse(d, out var overridden))
        {
            duration = overridden;
        }

        var failureRate = command is "echo" or "sleep" or "inventory" ? 0 : behaviour.FailureRate;
        if (parameters.TryGetValue("failureRate", out var f) && DurationText.TryParsePercent(f, out var rate))
        {
            failureRate = rate;
        }

        if (command == "fail")
        {
            failureRate = 1;
        }

        if (duration > TimeSpan.Zero)
        {
            await Task.Delay(duration, _time, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (Uniform(task.TaskId, 2) < failureRate)
        {
            return new TaskOutcome(false, 1, $"simulated failure of '{task.Command}' on {_agent.ComputerName}");
        }

        var output = command switch
        {
            "echo" => parameters.GetValueOrDefault("text") ?? "",
            "inventory" => InventorySummary(),
            _ => $"'{task.Command}' completed on {_agent.ComputerName} in {DurationText.Format(duration)}",
        };
        return new TaskOutcome(true, 0, output);
    }

    /// <inheritdoc />
    public async ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        var software = classes?.Any(c => c.Equals("software", StringComparison.OrdinalIgnoreCase)) == true;
        return _agent.ToInventory(_time.GetUtcNow(), Addresses(), software);
    }

    private IReadOnlyList<string>? Addresses() =>
        _network?.GetAdapters().Where(a => a.IsUp).SelectMany(a => a.Addresses).ToArray();

    private string InventorySummary()
    {
        var sb = new StringBuilder();
        sb.Append(_agent.ComputerName).Append(" (").Append(_agent.OsName).Append(' ').Append(_agent.OsVersion).Append("), ")
          .Append(_agent.Hardware.Manufacturer).Append(' ').Append(_agent.Hardware.Model).Append(", ")
          .Append(_agent.Software.Count).Append(" applications");
        return sb.ToString();
    }

    /// <summary>A uniform number in [0, 1) from the agent's seed, the task id and a salt.</summary>
    private double Uniform(string taskId, ulong salt)
    {
        var h = 14695981039346656037UL;
        foreach (var c in taskId)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return (StableHash.Mix(StableHash.Mix(_agent.Seed, h), salt) >> 11) * (1.0 / (1UL << 53));
    }
}
