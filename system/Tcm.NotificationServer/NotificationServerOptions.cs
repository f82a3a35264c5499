using Tcm.Protocol;

namespace Tcm.NotificationServer;

/// <summary>
/// Options of the Notification Server, bound from the configuration section <c>NotificationServer</c>
/// and validated when the host starts.
/// </summary>
public sealed class NotificationServerOptions : TcmServerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "NotificationServer";

    /// <summary>Defaults: data in <c>data/ns</c> (SQLite database <c>tcm.db</c>, the development CA, the generated admin key), port 4443.</summary>
    public NotificationServerOptions()
        : base("data/ns", ProtocolConstants.DefaultNotificationServerPort)
    {
    }

    /// <summary>Name the server announces in <c>welcome</c>. Default <see cref="Environment.MachineName"/>.</summary>
    public string ServerName { get; set; } = Environment.MachineName;

    /// <summary>Largest channel message (all frames together) and agent request body accepted. Default 256 KiB.</summary>
    public int MaxMessageBytes { get; set; } = ProtocolConstants.DefaultMaxMessageBytes;

    /// <summary>How long a new channel may take to send its <c>hello</c>. Default 10 seconds.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>WebSocket ping interval of the server side of a channel; zero disables pings. Default 30 seconds.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = ProtocolConstants.DefaultKeepAliveInterval;

    /// <summary>How long a ping may wait for its pong before the channel is aborted. Default 20 seconds.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = ProtocolConstants.DefaultKeepAliveTimeout;

    /// <summary>
    /// Most pushes in flight (written to agents' channels and not yet acknowledged) across the server; more wait, stored, and go out
    /// in waves as acknowledgements come back. Default 10,000.
    /// </summary>
    public int MaxPushesInFlight { get; set; } = 10_000;

    /// <summary>Most messages one channel's send queue may hold; a channel that falls further behind is aborted (its pushes wait in the store for its next hello). Default 1,000.</summary>
    public int MaxQueuedPerChannel { get; set; } = 1_000;

    /// <summary>The "TCM communication" setting written on the very first run (an existing data folder keeps its own). Default null, meaning off.</summary>
    public bool? TcmEnabledAtFirstRun { get; set; }
}
