namespace Tcm.Protocol;

/// <summary>
/// The two forms of a work poll's tasks (<see cref="TaskServerWork.Tasks"/>, <see cref="TaskServerWork.Groups"/>) and the way from one to
/// the other. A group is one task for several agents. The order of the tasks across agents may change from one form to the other; each
/// agent's own tasks keep their order (and with it their order in the agent's push sequence at the Task Server).
/// </summary>
public static class TaskServerWorkGroups
{
    /// <summary>The same work with its tasks as groups (<see cref="TaskServerWork.Tasks"/> empty); itself when it holds no task.</summary>
    public static TaskServerWork Grouped(this TaskServerWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (work.Tasks.Count == 0)
        {
            return work;
        }

        // why the agent's last group: a task joins the latest group of its task only if that group is not before the group of its
        // agent's previous task (else it starts a new one), so each agent's tasks keep their order once the groups are read back.
        var groups = new List<(TaskServerAssignment Task, List<string> Agents)>();
        var latest = new Dictionary<(string ActionId, DateTimeOffset CreatedAt), int>();
        var agentsLast = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var task in work.Tasks)
        {
            var after = agentsLast.GetValueOrDefault(task.AgentId, -1);
            if (!latest.TryGetValue((task.ActionId, task.CreatedAt), out var index) || index < after || !groups[index].Task.SameDefinition(task))
            {
                index = groups.Count;
                groups.Add((task, []));
                latest[(task.ActionId, task.CreatedAt)] = index;
            }

            groups[index].Agents.Add(task.AgentId);
            agentsLast[task.AgentId] = index;
        }

        return work with { Tasks = [], Groups = [.. groups.Select(static g => Group(g.Task, g.Agents))] };
    }

    /// <summary>Every task of the work, one per agent, in order: the groups' (each agent of a group in turn), then the listed ones.</summary>
    public static List<TaskServerAssignment> AllTasks(this TaskServerWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var groups = work.Groups ?? [];
        var tasks = new List<TaskServerAssignment>(groups.Sum(static g => g.AgentIds.Count) + work.Tasks.Count);
        foreach (var group in groups)
        {
            // why: the serializer lets an explicit null through a required list; the work poll backs off on this error as on bad JSON.
            foreach (var agentId in group.AgentIds ?? throw new System.Text.Json.JsonException($"work: the group of task '{group.ActionId}' lists no agents"))
            {
                tasks.Add(group.ToAssignment(group.ActionId, agentId, group.CreatedAt));
            }
        }

        tasks.AddRange(work.Tasks);
        return tasks;
    }

    private static TaskServerTaskGroup Group(TaskServerAssignment task, List<string> agents) => new()
    {
        ActionId = task.ActionId,
        AgentIds = agents,
        Command = task.Command,
        Name = task.Name,
        Parameters = task.Parameters,
        TimeoutSeconds = task.TimeoutSeconds,
        CreatedAt = task.CreatedAt,
        NotAfter = task.NotAfter,
        Urgent = task.Urgent,
    };
}
