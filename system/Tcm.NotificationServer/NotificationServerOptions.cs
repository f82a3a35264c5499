using Tcm.Protocol;

namespace Tcm.NotificationServer;

/// <summary>
/// Options of the Notification Server, bound from the configuration section <c>NotificationServer</c>
/// and validated when the host starts.
/// </summary>
public sealed class NotificationServerOptions : ITcmServerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "NotificationServer";

    /// <summary>Folder holding the SQLite database (<c>tcm.db</c>), the development CA and the generated admin key. Default <c>data/ns</c>.</summary>
    public string DataDirectory { get; set; } = "data/ns";

    /// <summary>IP address Kestrel listens on; <c>*</c> listens on every address. Default <c>127.0.0.1</c>.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>HTTPS port; 0 picks a free port (tests). Default 4443.</summary>
    public int Port { get; set; } = ProtocolConstants.DefaultNotificationServerPort;

    /// <summary>Host name agents use to reach this server; goes into the server certificate, policies and install packages. Default <c>localhost</c>.</summary>
    public string PublicHostName { get; set; } = "localhost";

    /// <summary>Name the server announces in <c>welcome</c>. Default <see cref="Environment.MachineName"/>.</summary>
    public string ServerName { get; set; } = Environment.MachineName;

    /// <summary>Key of the admin API. Default null: a key is generated on first run into <c>&lt;DataDirectory&gt;/admin.key</c> and reused.</summary>
    public string? AdminApiKey { get; set; }

    /// <summary>Largest channel message (all frames together) and agent request body accepted. Default 256 KiB.</summary>
    public int MaxMessageBytes { get; set; } = ProtocolConstants.DefaultMaxMessageBytes;

    /// <summary>How long a new channel may take to send its <c>hello</c>. Default 10 seconds.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>WebSocket ping interval of the server side of a channel; zero disables pings. Default 30 seconds.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = ProtocolConstants.DefaultKeepAliveInterval;

    /// <summary>How long a ping may wait for its pong before the channel is aborted. Default 20 seconds.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = ProtocolConstants.DefaultKeepAliveTimeout;

    /// <summary>The "TCM communication" setting written on the very first run (an existing data folder keeps its own). Default null, meaning off.</summary>
    public bool? TcmEnabledAtFirstRun { get; set; }
}
