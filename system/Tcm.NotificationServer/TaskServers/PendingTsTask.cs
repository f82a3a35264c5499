namespace Tcm.NotificationServer.TaskServers;

/// <summary>A task not yet delivered to its agent, and the Task Server that accepted it last.</summary>
internal sealed class PendingTsTask(string actionId, TaskServerAssignment assignment)
{
    public string ActionId { get; } = actionId;
    public TaskServerAssignment Assignment { get; } = assignment;
    public string? AcceptedBy { get; set; }
}
