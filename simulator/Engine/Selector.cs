using Tcm.Simulator.Fleet;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Engine;

/// <summary>Resolves a scenario's <c>select</c> and a condition's population to virtual agents, deterministically for a seed.</summary>
internal static class Selector
{
    public static IReadOnlyList<VirtualAgent> Select(IReadOnlyList<VirtualAgent> fleet, Selection selection, int seed, string eventId)
    {
        IEnumerable<VirtualAgent> matching = fleet;
        if (selection.Groups.Count > 0)
        {
            matching = matching.Where(a => selection.Groups.Contains(a.Spec.GroupName, StringComparer.OrdinalIgnoreCase));
        }

        if (!selection.Where.IsEmpty)
        {
            matching = matching.Where(a => Matches(a, selection.Where));
        }

        var list = matching.ToList();
        int? take = selection.Share is { } share ? (int)Math.Round(share * list.Count, MidpointRounding.AwayFromZero)
            : selection.Count is { } count ? Math.Min(count, list.Count)
            : null;
        if (take is not { } n)
        {
            return list;
        }

        // A seeded, per-event order: the same scenario and seed pick the same agents, different events pick independently.
        var salt = (ulong)(uint)seed << 32 ^ (ulong)(uint)StableHash(eventId);
        return list.OrderBy(a => Tcm.Lab.Fleet.StableHash.Mix(a.Spec.Seed, salt)).Take(n).ToList();
    }

    public static bool InPopulation(VirtualAgent agent, Population population) =>
        (population.Group is null || string.Equals(agent.Spec.GroupName, population.Group, StringComparison.OrdinalIgnoreCase))
        && (population.Location is null || agent.Network.Location == population.Location)
        && (population.Vpn is null || agent.Network.Vpn == population.Vpn);

    private static bool Matches(VirtualAgent agent, SelectionFilter where)
    {
        if (where.Location is { } location && agent.Network.Location != location)
        {
            return false;
        }

        if (where.Vpn is { } vpn && agent.Network.Vpn != vpn)
        {
            return false;
        }

        if (where.Cem is { } cem && agent.Spec.Cem != cem)
        {
            return false;
        }

        if (where.Mode is not null || where.Transport is not null)
        {
            var (mode, transport, _) = agent.State();
            if ((where.Mode is { } m && m != mode) || (where.Transport is { } t && t != transport))
            {
                return false;
            }
        }

        if (where.Attributes.Count > 0)
        {
            var attributes = agent.Spec.Attributes();
            foreach (var (key, pattern) in where.Attributes)
            {
                if (!attributes.TryGetValue(key, out var value) || !Tcm.Protocol.Wildcard.IsMatch(value, pattern))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static int StableHash(string text)
    {
        unchecked
        {
            var hash = (int)2166136261;
            foreach (var c in text)
            {
                hash = (hash ^ c) * 16777619;
            }

            return hash;
        }
    }
}
