using Microsoft.Extensions.Options;
using Tcm.Channels.Framing;
using Tcm.NotificationServer.AgentEndpoints;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Diagnostics;
using Tcm.NotificationServer.Policy;

namespace Tcm.NotificationServer.Channel;

/// <summary>What every <see cref="ChannelSession"/> needs, shared, so a session holds one reference instead of ten.</summary>
internal sealed class ChannelServices(
    IOptions<NotificationServerOptions> options,
    ConnectionRegistry registry,
    DeliveryService delivery,
    PolicyService policy,
    AgentApi api,
    NodeIdentity node,
    NodeCatchUp catchUp,
    NsMetrics metrics,
    TimeProvider time,
    ILogger<ChannelSession> logger)
{
    public ConnectionRegistry Registry { get; } = registry;
    public DeliveryService Delivery { get; } = delivery;
    public PolicyService Policy { get; } = policy;
    public AgentApi Api { get; } = api;

    /// <summary>This node, recorded for each agent whose channel said hello here.</summary>
    public NodeIdentity Node { get; } = node;

    /// <summary>Brings an agent up to the pushes other nodes stored for it before its session starts here.</summary>
    public NodeCatchUp CatchUp { get; } = catchUp;
    public NsMetrics Metrics { get; } = metrics;
    public TimeProvider Time { get; } = time;
    public ILogger Logger { get; } = logger;
    public NotificationServerOptions Options { get; } = options.Value;
    public string ServerName { get; } = options.Value.ServerName;

    /// <summary>The clock, the largest message, the close timeout, the result acknowledgements' delay and the results in flight of every channel.</summary>
    public ServerChannelSettings Channel { get; } = new(time, options.Value.MaxMessageBytes, ServerChannelSettings.DefaultCloseTimeout)
    {
        ResultAckDelay = options.Value.ResultAckDelay,
        MaxResultsInFlight = options.Value.MaxResultsInFlight,
    };
}
