using System.Net.WebSockets;
using Tcm.Channels.Framing;

namespace Tcm.Channels.Delivery;

/// <summary>
/// One agent's channel on a server that pushes to it (the Notification Server's and the Task Server's sessions): a
/// <see cref="ServerChannel"/> for <typeparamref name="TAgent"/> that the <see cref="DeliveryEngine"/> may push through once it is ready.
/// </summary>
/// <typeparam name="TAgent">The server's record of the agent.</typeparam>
public abstract class AgentSession<TAgent> : ServerChannel, IPushChannel
{
    /// <summary>A channel of <paramref name="agent"/> over an accepted <paramref name="socket"/>, waiting for its hello.</summary>
    protected AgentSession(WebSocket socket, TAgent agent, string connectionId, ServerChannelSettings settings)
        : base(socket, connectionId, settings)
    {
        Agent = agent;
    }

    /// <summary>The agent at the other end.</summary>
    public TAgent Agent { get; }

    /// <inheritdoc/>
    public bool Ready { get; set; }

    /// <summary>The connection's token (the request's): cancelled when the peer goes away or the server stops.</summary>
    protected CancellationToken Aborted { get; private set; }

    /// <summary>Reads and handles messages until the channel closes, then <see cref="OnEnded"/>. Never throws for a peer that goes away.</summary>
    public async Task RunAsync(CancellationToken aborted)
    {
        Aborted = aborted;
        try
        {
            await ReceiveLoopAsync(aborted).ConfigureAwait(false);
        }
        finally
        {
            OnEnded();
        }
    }

    /// <summary>The channel has closed (or was aborted): release what the session holds.</summary>
    protected abstract void OnEnded();
}
