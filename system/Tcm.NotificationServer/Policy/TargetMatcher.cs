using Tcm.NotificationServer.Agents;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Policy;

/// <summary>Whether <see cref="Targets"/> include an agent.</summary>
internal static class TargetMatcher
{
    /// <summary>
    /// True when <see cref="Targets.All"/> is set, or the agent's id or computer name is listed in <see cref="Targets.Agents"/>,
    /// or there is at least one rule and every rule matches (wildcards, case-insensitive; a missing attribute never matches).
    /// </summary>
    public static bool Matches(Targets? targets, AgentRecord agent)
    {
        if (targets is null)
        {
            return false;
        }

        if (targets.All)
        {
            return true;
        }

        foreach (var name in targets.Agents ?? [])
        {
            if (string.Equals(name, agent.Id, StringComparison.OrdinalIgnoreCase) || string.Equals(name, agent.ComputerName, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        var rules = targets.Rules ?? [];
        if (rules.Count == 0)
        {
            return false;
        }

        foreach (var rule in rules)
        {
            var value = agent.GetAttribute(rule.Attribute);
            if (value is null || !Wildcard.IsMatch(value, rule.Pattern))
            {
                return false;
            }
        }

        return true;
    }
}
