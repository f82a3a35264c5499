namespace Tcm.Protocol;

/// <summary>Version, limits and well-known names of the TCM channel. <c>docs/protocol.md</c> is the normative text.</summary>
public static class ProtocolConstants
{
    /// <summary>The protocol version this build speaks. A peer with another version is refused with <see cref="CloseReasons.UnsupportedVersion"/>.</summary>
    public const int Version = 1;

    /// <summary>The WebSocket sub-protocol an agent offers and the server selects.</summary>
    public const string SubProtocol = "tcm.v1";

    /// <summary>Default maximum size of one message (one WebSocket message, all frames together): 256 KiB.</summary>
    public const int DefaultMaxMessageBytes = 256 * 1024;

    /// <summary>
    /// Default WebSocket ping interval of a persistent connection: 60 seconds (docs/protocol.md, Keep-alive, says why: below the
    /// idle timeouts of the NATs and layer-4 balancers an agent's channel crosses, and half the bytes of 30 seconds).
    /// </summary>
    public static readonly TimeSpan DefaultKeepAliveInterval = TimeSpan.FromSeconds(60);

    /// <summary>Default time a pong may take before the connection is considered dead.</summary>
    public static readonly TimeSpan DefaultKeepAliveTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Default HTTPS port of the Notification Server.</summary>
    public const int DefaultNotificationServerPort = 4443;

    /// <summary>Default HTTPS port of a Task Server (the product's Task Server / CEM agent site port).</summary>
    public const int DefaultTaskServerPort = 4726;

    /// <summary>Default agent listener port of the CEM Internet Gateway (443 in the product; 8443 so it runs unprivileged).</summary>
    public const int DefaultGatewayPort = 8443;

    /// <summary>Request header that carries the admin API key (alternative: <c>Authorization: Bearer</c>).</summary>
    public const string AdminKeyHeader = "X-Tcm-Admin-Key";

    /// <summary>
    /// Request header of a channel upgrade: the agent's keep-alive interval in whole seconds. An agent that sends it pings the
    /// channel itself, so the server does not ping it and closes the channel after two intervals without a byte from it; a
    /// channel without it (an agent from before the header) is pinged by the server as before.
    /// </summary>
    public const string KeepAliveHeader = "X-Tcm-Keep-Alive";
}

/// <summary>Well-known HTTP paths. Agent paths are relative to the server's base address.</summary>
public static class TcmPaths
{
    /// <summary>POST <see cref="RegisterRequest"/> (no client certificate needed) returns <see cref="RegisterResponse"/>.</summary>
    public const string Register = "/tcm/agent/register";

    /// <summary>GET the agent's <see cref="PolicyDocument"/>; honours <c>If-None-Match</c> with the policy ETag (304).</summary>
    public const string Policy = "/tcm/agent/policy";

    /// <summary>POST an <see cref="EventBatch"/>.</summary>
    public const string Events = "/tcm/agent/events";

    /// <summary>POST <see cref="BasicInventory"/>.</summary>
    public const string Inventory = "/tcm/agent/inventory";

    /// <summary>GET pending pushes (<c>?after=N</c> acknowledges everything up to N) returns <see cref="PendingPushes"/>.</summary>
    public const string Tasks = "/tcm/agent/tasks";

    /// <summary>POST <see cref="TaskStatusMessage"/> (the message's JSON, kind included).</summary>
    public const string TaskStatus = "/tcm/agent/tasks/status";

    /// <summary>POST <see cref="TaskResultMessage"/> or <see cref="InventoryResultMessage"/>; returns <see cref="ResultReceipt"/>.</summary>
    public const string TaskResult = "/tcm/agent/tasks/result";

    /// <summary>Server to agent, over the channel only: GET the agent's Network Status.</summary>
    public const string AgentStatus = "/tcm/agent/status";

    /// <summary>The persistent channel: a WebSocket (HTTP/1.1 upgrade or HTTP/2 extended CONNECT).</summary>
    public const string Channel = "/tcm/agent/channel";

    /// <summary>Liveness and readiness.</summary>
    public const string Health = "/healthz";

    /// <summary>Root of the admin API.</summary>
    public const string Admin = "/tcm/admin";
}
