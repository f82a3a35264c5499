using System.Net.WebSockets;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;

namespace Tcm.NotificationServer.Channel;

/// <summary>
/// After an admin change: pushes the new policy to every connected agent whose policy ETag changed, then closes the
/// channels the new policy no longer allows, with the matching reason. Lives with the channels (it walks the open ones),
/// so Policy stays free of Channel and Delivery.
/// </summary>
internal sealed partial class PolicyDistributor(
    PolicyService policy,
    ConnectionRegistry registry,
    DeliveryService delivery,
    ILogger<PolicyDistributor> logger)
{
    /// <summary>Returns how many agents got a new policy.</summary>
    public async Task<int> DistributeAsync(CancellationToken cancellationToken = default)
    {
        var changed = new List<AgentRecord>();
        var toClose = new List<(ChannelSession Session, string Code)>();
        foreach (var session in registry.Active)
        {
            var agent = session.Agent;
            var previousEtag = agent.CachedPolicy?.Policy.Etag;
            var current = policy.GetPolicy(agent);
            if (!string.Equals(previousEtag, current.Etag, StringComparison.Ordinal))
            {
                changed.Add(agent);
            }

            if (PolicyService.ChannelRefusal(current) is { } code)
            {
                toClose.Add((session, code));
            }
        }

        if (changed.Count > 0)
        {
            await delivery.PushAsync(changed, agent => new PolicyPushMessage { Seq = 0, Policy = policy.GetPolicy(agent) }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        foreach (var (session, code) in toClose)
        {
            var detail = code == CloseReasons.TcmDisabled
                ? "the server setting 'TCM communication' was switched off"
                : "the agent's communication profile no longer enables a persistent connection";
            session.BeginClose(WebSocketCloseStatus.NormalClosure, code, detail);
        }

        Log.Distributed(logger, changed.Count, toClose.Count);
        return changed.Count;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Configuration changed: pushed a new policy to {Changed} connected agents, closed {Closed} channels no longer allowed")]
        public static partial void Distributed(ILogger logger, int changed, int closed);
    }
}
