using Tcm.TaskServer.Agents;
using Tcm.TaskServer.Identity;
using NsLink = Tcm.TaskServer.NotificationServerLink.NotificationServerLink;

namespace Tcm.TaskServer;

/// <summary>What a host, the simulator's lab and tests need to know about a running Task Server. Resolve it from <c>app.Services</c>.</summary>
public sealed class TaskServerInfo
{
    private readonly ServerAddresses _addresses;
    private readonly TaskServerIdentity _identity;
    private readonly TaskDelivery _delivery;
    private readonly NsLink _link;

    internal TaskServerInfo(ServerAddresses addresses, TaskServerIdentity identity, TaskDelivery delivery, NsLink link)
    {
        _addresses = addresses;
        _identity = identity;
        _delivery = delivery;
        _link = link;
    }

    /// <summary>The bound URL, e.g. <c>https://127.0.0.1:4726</c>. Available after the application started.</summary>
    public string BaseUrl => _addresses.BaseUrl;

    /// <summary><c>host:port</c> as policies publish it. Available after the application started.</summary>
    public string Address => _addresses.PublicHostPort;

    /// <summary>The site-server id the NS issued at registration.</summary>
    public string Id => _identity.Id;

    /// <summary>The Task Server's name (its certificate's CN).</summary>
    public string Name => _identity.Name;

    /// <summary>Agents registered with this Task Server.</summary>
    public int RegisteredAgents => _delivery.AgentCount;

    /// <summary>Agents with an open channel now.</summary>
    public int ConnectedAgents => _delivery.ConnectedCount;

    /// <summary>Statuses and results waiting to be forwarded to the NS.</summary>
    public int PendingForwards => _delivery.OutboxCount;

    /// <summary>Stored pushes waiting for room in the push window (back-pressure: the Task Server has more work than it sends at once).</summary>
    public int WaitingPushes => _delivery.WaitingPushes;

    /// <summary>Pushes sent and not yet acknowledged.</summary>
    public long PushesInFlight => _delivery.PushesInFlight;

    /// <summary>Whether the last exchange with the NS succeeded.</summary>
    public bool NotificationServerReachable => _link.Reachable;

    /// <summary>Whether <paramref name="agentId"/> has an open channel to this Task Server.</summary>
    public bool IsConnected(string agentId) => _delivery.Agents.Any(a => a.Id == agentId && a.Session is not null);
}
