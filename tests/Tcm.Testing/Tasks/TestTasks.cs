using System.Globalization;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Testing;

/// <summary>The built-in tasks tests push, aimed at agents by id.</summary>
public static class TestTasks
{
    /// <summary>An <c>echo</c> of <paramref name="text"/>: its output is the text.</summary>
    public static PushTaskRequest Echo(string text, params string[] agentIds) => new()
    {
        Command = "echo",
        Parameters = new Dictionary<string, string> { ["text"] = text },
        Targets = new Targets { Agents = agentIds },
    };

    /// <summary>A <c>sleep</c> of <paramref name="seconds"/>: long enough to catch the task running.</summary>
    public static PushTaskRequest Sleep(double seconds, params string[] agentIds) => new()
    {
        Command = "sleep",
        Parameters = new Dictionary<string, string> { ["seconds"] = seconds.ToString(CultureInfo.InvariantCulture) },
        Targets = new Targets { Agents = agentIds },
    };

    /// <summary>The result an agent sends for <paramref name="push"/>, under the key that names its agent and task.</summary>
    public static TaskResultMessage Succeeded(string agentId, TaskPushMessage push, string output) => new()
    {
        TaskId = push.TaskId,
        IdempotencyKey = $"{agentId}:{push.TaskId}",
        State = TaskState.Succeeded,
        ExitCode = 0,
        Output = output,
    };
}
