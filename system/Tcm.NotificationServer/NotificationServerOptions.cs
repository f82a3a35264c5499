namespace Tcm.NotificationServer;

/// <summary>
/// Options of the Notification Server, bound from the configuration section <c>NotificationServer</c>
/// and validated when the host starts.
/// </summary>
public sealed class NotificationServerOptions : TcmChannelServerOptions
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

    /// <summary>
    /// This node's name among the Notification Server nodes that share one database: recorded for each agent whose persistent connection
    /// it holds, and shown by the admin API and console. Up to 64 letters, digits, '.', '-', '_' or ':'. Default
    /// <c>{ServerName}:{Port}</c>; nodes on one database must have different names.
    /// </summary>
    public string? NodeName { get; set; }

    /// <summary>Most messages one channel's send queue may hold; a channel that falls further behind is aborted (its pushes wait in the store for its next hello). Default 1,000.</summary>
    public int MaxQueuedPerChannel { get; set; } = 1_000;

    /// <summary>
    /// Where the management data lives: empty (the default) for the embedded SQLite file <c>tcm.db</c> in the data folder, or a
    /// PostgreSQL connection string (<c>Host=...;Database=...;Username=...</c>) for a database server that several NS nodes can share.
    /// </summary>
    public string? Store { get; set; }

    /// <summary>The "TCM communication" setting written on the very first run (an existing data folder keeps its own). Default null, meaning off.</summary>
    public bool? TcmEnabledAtFirstRun { get; set; }
}
