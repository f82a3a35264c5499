using Tcm.Protocol.Admin;

namespace Tcm.Protocol;

/// <summary>
/// What a task is, whichever contract carries it: the administrator's <see cref="PushTaskRequest"/>, the NS's
/// <see cref="TaskServerAssignment"/> to a Task Server and the agents' <see cref="TaskPushMessage"/>. Each hop copies it through
/// <see cref="TaskDefinitions"/>, so a new task field is carried by every hop once it is added there.
/// </summary>
public interface ITaskDefinition
{
    /// <summary>What to run (<see cref="TaskPushMessage.Command"/>).</summary>
    string Command { get; }

    /// <summary>The task's display name.</summary>
    string? Name { get; }

    /// <summary>The command's parameters.</summary>
    IReadOnlyDictionary<string, string>? Parameters { get; }

    /// <summary>How long the task may run.</summary>
    int TimeoutSeconds { get; }

    /// <summary>The task must not start after this time; null: no limit.</summary>
    DateTimeOffset? NotAfter { get; }

    /// <summary>Runs outside the agent's maintenance windows.</summary>
    bool Urgent { get; }
}

/// <summary>The copies of a task from one hop's contract to the next, and its comparison.</summary>
public static class TaskDefinitions
{
    /// <summary>The push that carries <paramref name="task"/> to an agent as task <paramref name="taskId"/>.</summary>
    public static TaskPushMessage ToPush(this ITaskDefinition task, string taskId, DateTimeOffset createdAt, long seq = 0)
    {
        ArgumentNullException.ThrowIfNull(task);
        return new TaskPushMessage
        {
            Seq = seq,
            TaskId = taskId,
            Command = task.Command,
            Name = task.Name,
            Parameters = task.Parameters,
            TimeoutSeconds = task.TimeoutSeconds,
            CreatedAt = createdAt,
            NotAfter = task.NotAfter,
            Urgent = task.Urgent,
        };
    }

    /// <summary>The NS's hand-over of <paramref name="task"/> for <paramref name="agentId"/> to the Task Server that holds it.</summary>
    public static TaskServerAssignment ToAssignment(this ITaskDefinition task, string actionId, string agentId, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(task);
        return new TaskServerAssignment
        {
            ActionId = actionId,
            AgentId = agentId,
            Command = task.Command,
            Name = task.Name,
            Parameters = task.Parameters,
            TimeoutSeconds = task.TimeoutSeconds,
            CreatedAt = createdAt,
            NotAfter = task.NotAfter,
            Urgent = task.Urgent,
        };
    }

    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> define the same task (parameters compared by value, ordinally).</summary>
    public static bool SameDefinition(this ITaskDefinition a, ITaskDefinition b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Command == b.Command && a.Name == b.Name && a.TimeoutSeconds == b.TimeoutSeconds && a.NotAfter == b.NotAfter && a.Urgent == b.Urgent
            && SameParameters(a.Parameters, b.Parameters);
    }

    private static bool SameParameters(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a is null || b is null || a.Count != b.Count)
        {
            return false;
        }

        foreach (var (name, value) in a)
        {
            if (!b.TryGetValue(name, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
