using Tcm.Agent.Network;
using Tcm.Agent.Status;
using Tcm.Protocol;

namespace Tcm.Agent.Connection;

/// <summary>
/// One of the agent's two server connections: the core agent's to its Notification Server (<see cref="ChannelRole.NotificationServer"/>)
/// and the Client Task Agent's to its Task Server (<see cref="ChannelRole.TaskServer"/>). The connection loop of <see cref="TcmAgent"/>
/// (keep-alive, jittered back-off, refusals, HTTP fallback, delivery bookkeeping) runs once per instance; this holds its state.
/// Fields are guarded by the agent's gate, except where marked volatile.
/// </summary>
internal sealed class ServerConnection : IDisposable
{
    public ServerConnection(ChannelRole role, TrafficPurpose purpose, BackoffOptions backoff, TimeProvider time)
    {
        Role = role;
        Purpose = purpose;
        Signal = new LoopSignal(time);
        Backoff = new Backoff(backoff);
    }

    public ChannelRole Role { get; }

    /// <summary>What <see cref="Network.INetwork"/> accounts the traffic of this connection as.</summary>
    public Network.TrafficPurpose Purpose { get; }

    /// <summary>"Notification Server" or "Task Server", for log lines.</summary>
    public string ServerKind => Role == ChannelRole.TaskServer ? "Task Server" : "Notification Server";

    /// <summary>Wakes this connection's loop.</summary>
    public LoopSignal Signal { get; }

    public Backoff Backoff { get; }

    /// <summary>Bytes and events of this connection (the NS one is the agent's <see cref="TcmAgent.Counters"/>).</summary>
    public AgentCounters Counters { get; set; } = new();

    public volatile AgentTransport? Transport;

    public volatile AgentChannel? Channel;

    public AgentRoute? Route;

    public bool Reachable;

    public string? HttpReason;

    public DateTimeOffset? ConnectedSince;

    public DateTimeOffset NextTaskPoll;

    public DateTimeOffset ChannelNotBefore;

    public bool ChannelBlockedUntilPolicy;

    public bool TerminateRequested;

    /// <summary>The channel is being closed because the routing decision changed: reconnect at once on the new route.</summary>
    public bool RouteChangeRequested;

    /// <summary>Task Server only: the id of the server in use (sticky until it refuses or fails).</summary>
    public string? ServerId;

    public void Dispose()
    {
        Transport?.Dispose();
        Signal.Dispose();
    }
}
