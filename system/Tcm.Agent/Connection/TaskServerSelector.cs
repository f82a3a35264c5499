using Tcm.Protocol;

namespace Tcm.Agent.Connection;

/// <summary>
/// How the Client Task Agent picks its Task Server from the policy: the order of the policy's method (fewest computers, available
/// capacity, the admin's ordered list, which the NS already ordered for the agent's site, or the agent's own fastest connection), the
/// server in use first while it works, and servers that refused or failed recently last.
/// </summary>
internal static class TaskServerSelector
{
    /// <summary>
    /// The servers to try, best first; excluded ones (refused or failed until the given time) come after all others. For
    /// <see cref="TaskServerSelection.FastestConnection"/>, <paramref name="connectTimes"/> holds the agent's measured connect time per
    /// server id: measured servers first, fastest first; servers without a measurement (not answered, or not measured on this route)
    /// after them by fewest computers.
    /// </summary>
    public static IReadOnlyList<TaskServerEntry> Order(
        TaskServerPolicy? policy, string? current, IReadOnlyDictionary<string, DateTimeOffset> excludedUntil, DateTimeOffset now,
        IReadOnlyDictionary<string, TimeSpan>? connectTimes = null)
    {
        if (policy is not { Servers.Count: > 0 })
        {
            return [];
        }

        IEnumerable<(TaskServerEntry Entry, int Index)> ranked = policy.Servers.Select((s, i) => (s, i));
        ranked = policy.Selection switch
        {
            TaskServerSelection.FewestComputers => ranked.OrderBy(x => x.Entry.RegisteredAgents).ThenBy(x => x.Index),
            TaskServerSelection.AvailableCapacity => ranked.OrderByDescending(x => x.Entry.MaxAgents - x.Entry.RegisteredAgents).ThenBy(x => x.Index),
            TaskServerSelection.FastestConnection => ranked
                .OrderBy(x => connectTimes is not null && connectTimes.TryGetValue(x.Entry.Id, out var time) ? time : TimeSpan.MaxValue)
                .ThenBy(x => x.Entry.RegisteredAgents).ThenBy(x => x.Index),
            _ => ranked.OrderBy(x => x.Index),
        };
        return [.. ranked
            .OrderBy(x => excludedUntil.TryGetValue(x.Entry.Id, out var until) && until > now ? 1 : 0)
            .ThenBy(x => x.Entry.Id == current ? 0 : 1)
            .Select(x => x.Entry)];
    }
}
