using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Channel;
using Tcm.NotificationServer.Policy;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Admin;

/// <summary>Agents as the admin API shows them.</summary>
internal sealed class AgentViews(AgentDirectory directory, ConnectionRegistry registry, PolicyService policy)
{
    public AgentInfo ToInfo(AgentRecord agent)
    {
        var connected = registry.IsConnected(agent.Id);
        var (mode, transport) = ModeOf(agent, connected);
        return new AgentInfo
        {
            Id = agent.Id,
            ComputerName = agent.ComputerName,
            Domain = agent.Domain,
            OsName = agent.OsName,
            Attributes = agent.Attributes,
            ProfileId = policy.GetPolicy(agent).Communication.ProfileId,
            RegisteredAt = agent.RegisteredAt,
            LastContact = agent.LastContact,
            Connected = connected,
            Mode = mode,
            Transport = transport,
            Route = agent.Route,
            Node = agent.Node,
            BytesSent = Interlocked.Read(ref agent.BytesSent),
            BytesReceived = Interlocked.Read(ref agent.BytesReceived),
            LastAckedSeq = agent.AckedSeq,
            PendingPushes = agent.PendingPushes,
            NetworkStatus = agent.NetworkStatus,
        };
    }

    /// <summary>A page over the in-memory cache: filtered, ordered by computer name then id.</summary>
    public AgentPage Page(int skip, int take, string? search, bool? connected)
    {
        IEnumerable<AgentRecord> query = directory.All;
        if (!string.IsNullOrWhiteSpace(search))
        {
            query = query.Where(a =>
                a.Id.Contains(search, StringComparison.OrdinalIgnoreCase)
                || a.ComputerName.Contains(search, StringComparison.OrdinalIgnoreCase)
                || (a.Domain?.Contains(search, StringComparison.OrdinalIgnoreCase) ?? false));
        }

        if (connected is bool wanted)
        {
            query = query.Where(a => registry.IsConnected(a.Id) == wanted);
        }

        var matching = query.ToList();
        matching.Sort(static (a, b) =>
        {
            var byName = string.Compare(a.ComputerName, b.ComputerName, StringComparison.OrdinalIgnoreCase);
            return byName != 0 ? byName : string.CompareOrdinal(a.Id, b.Id);
        });
        var items = matching.Skip(skip).Take(take).Select(ToInfo).ToList();
        return new AgentPage(items, matching.Count, skip, take);
    }

    public FleetSummary Fleet()
    {
        int total = 0, persistent = 0, http = 0, direct = 0, cem = 0, offline = 0;
        foreach (var agent in directory.All)
        {
            total++;
            var (mode, transport) = ModeOf(agent, registry.IsConnected(agent.Id));
            switch (mode)
            {
                case ConnectionMode.Offline:
                    offline++;
                    continue;
                case ConnectionMode.Cem:
                    cem++;
                    break;
                default:
                    direct++;
                    break;
            }

            if (transport == TransportKind.Persistent)
            {
                persistent++;
            }
            else
            {
                http++;
            }
        }

        return new FleetSummary { Total = total, Persistent = persistent, Http = http, Direct = direct, Cem = cem, Offline = offline };
    }

    private static (ConnectionMode Mode, TransportKind Transport) ModeOf(AgentRecord agent, bool connected)
    {
        if (connected)
        {
            return (agent.Route?.StartsWith("cem", StringComparison.OrdinalIgnoreCase) == true ? ConnectionMode.Cem : ConnectionMode.Direct, TransportKind.Persistent);
        }

        if (agent.NetworkStatus is { } status)
        {
            return (status.Mode, TransportKind.Http);
        }

        return agent.LastContact is null ? (ConnectionMode.Offline, TransportKind.Http) : (ConnectionMode.Direct, TransportKind.Http);
    }
}
