using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.Channels.Framing;
using Tcm.TaskServer.Agents;
using Tcm.TaskServer.Identity;

namespace Tcm.TaskServer.Channel;

/// <summary>What every <see cref="TsSession"/> needs, shared.</summary>
internal sealed class TsChannelServices(
    IOptions<TaskServerOptions> options, TaskDelivery delivery, TsAgentApi api, TaskServerIdentity identity, TimeProvider time, ILogger<TsSession> logger)
{
    public TaskServerOptions Options { get; } = options.Value;
    public TaskDelivery Delivery { get; } = delivery;
    public TsAgentApi Api { get; } = api;
    public string ServerName { get; } = identity.Name;
    public ILogger Logger { get; } = logger;
    public TimeProvider Time { get; } = time;

    /// <summary>Every open channel, for the one heartbeat (<see cref="TsChannelHousekeeping"/>).</summary>
    public ChannelSet<TsSession> Channels { get; } = new();

    /// <summary>The clock, the largest message, the close timeout, the result acknowledgements' delay and the results in flight of every channel.</summary>
    public ServerChannelSettings Channel { get; } = new(time, options.Value.MaxMessageBytes, ServerChannelSettings.DefaultCloseTimeout)
    {
        ResultAckDelay = options.Value.ResultAckDelay,
        MaxResultsInFlight = options.Value.MaxResultsInFlight,
    };
}
