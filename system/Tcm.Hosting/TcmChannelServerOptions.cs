using Tcm.Protocol;

namespace Tcm.Hosting;

/// <summary>
/// The settings of a server that holds agents' persistent channels (the Notification Server and the Task Server): the largest
/// message, the hello deadline, the WebSocket keep-alive and the pushes in flight, on top of <see cref="TcmServerOptions"/>.
/// </summary>
public abstract class TcmChannelServerOptions : TcmServerOptions
{
    /// <summary>Sets the server's defaults.</summary>
    /// <param name="dataDirectory">The default data folder, e.g. <c>data/ns</c>.</param>
    /// <param name="port">The default HTTPS port, e.g. 4443.</param>
    protected TcmChannelServerOptions(string dataDirectory, int port)
        : base(dataDirectory, port)
    {
    }

    /// <summary>Largest channel message (all frames together) and agent request body accepted. Default 256 KiB.</summary>
    public int MaxMessageBytes { get; set; } = ProtocolConstants.DefaultMaxMessageBytes;

    /// <summary>How long a new channel may take to send its <c>hello</c>. Default 10 seconds.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// WebSocket ping interval of the server side of a channel whose agent announced no keep-alive of its own (an agent from before
    /// <see cref="ProtocolConstants.KeepAliveHeader"/>); zero disables those pings. An agent that announces its interval pings
    /// alone, and its channel is closed after two intervals of silence. Default 30 seconds: those agents are pinged as they always
    /// were (the agents' own default interval is <see cref="ProtocolConstants.DefaultKeepAliveInterval"/>).
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = DefaultServerPingInterval;

    /// <summary>The default of <see cref="KeepAliveInterval"/>: 30 seconds.</summary>
    public static TimeSpan DefaultServerPingInterval { get; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may wait for its pong before the channel is aborted. Default 20 seconds.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = ProtocolConstants.DefaultKeepAliveTimeout;

    /// <summary>
    /// Most pushes in flight (written to agents' channels and not yet acknowledged) across the server; more wait, stored, and go out
    /// in waves as acknowledgements come back. Default 10,000.
    /// </summary>
    public int MaxPushesInFlight { get; set; } = 10_000;

    /// <summary>
    /// How long the server may hold its acknowledgement of a stored result for an agent whose hello accepts held acknowledgements: it
    /// rides on the next push to that agent (<c>ackKeys</c>), or goes in one <c>ack</c> with every key held once the oldest waited this
    /// long (checked by the channels' heartbeat, so up to a second later), or at once when 64 are held. Zero acknowledges every result
    /// at once, as for an agent that did not say so. At most 1 minute. Default 2 seconds.
    /// </summary>
    public TimeSpan ResultAckDelay { get; set; } = DefaultResultAckDelay;

    /// <summary>
    /// Most results one agent's channel hands to the store before the first of them committed: the channel reads the agent's next
    /// message while its results commit (each acknowledged after its own commit), and at this many waits for one, so an agent that
    /// sends faster than the store commits is slowed down. 1 to 1,024. Default 32.
    /// </summary>
    public int MaxResultsInFlight { get; set; } = 32;

    /// <summary>The default of <see cref="ResultAckDelay"/>: 2 seconds, past a fan-out every second or two, far below any timeout.</summary>
    public static TimeSpan DefaultResultAckDelay { get; } = TimeSpan.FromSeconds(2);

    /// <summary>The largest <see cref="ResultAckDelay"/>: 1 minute.</summary>
    public static TimeSpan MaxResultAckDelay { get; } = TimeSpan.FromMinutes(1);
}
