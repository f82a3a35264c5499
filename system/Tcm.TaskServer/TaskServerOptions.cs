using Tcm.Protocol;

namespace Tcm.TaskServer;

/// <summary>
/// Options of the Task Server, bound from the configuration section <c>TaskServer</c> and validated when the host starts
/// (<see cref="TaskServerOptionsValidator"/>).
/// </summary>
public sealed class TaskServerOptions : TcmChannelServerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "TaskServer";

    /// <summary>Defaults: data in <c>data/ts</c> (SQLite store <c>ts.db</c>, the identity from registration <c>identity.json</c>/<c>identity.key</c>), port 4726, the product's Task Server / CEM agent site port.</summary>
    public TaskServerOptions()
        : base("data/ts", ProtocolConstants.DefaultTaskServerPort)
    {
    }

    /// <summary>A second HTTPS port with the same endpoints (e.g. one for the gateway, one for the LAN). Default null: none.</summary>
    public int? SecondPort { get; set; }

    /// <summary>More DNS names or IP addresses for the certificate (the loopback addresses and the listen address are always in). Default empty.</summary>
    public IList<string> HostNames { get; set; } = [];

    /// <summary>
    /// Base URL of the Notification Server, e.g. <c>https://ns.example:4443</c>; for several nodes of one Notification Server (one
    /// database), each node's URL, separated by commas: the Task Server registers with the first, calls one at a time and, after a
    /// failure, the next round the list. Required.
    /// </summary>
    public string NotificationServerUrl { get; set; } = "";

    /// <summary>PEM file of the NS CA the Task Server trusts the NS through (before registration; after it, the CA the NS returned is kept). Default null.</summary>
    public string? NotificationServerCaFile { get; set; }

    /// <summary>The NS CA as PEM text, instead of <see cref="NotificationServerCaFile"/> (tests, the lab). Default null.</summary>
    public string? NotificationServerCaPem { get; set; }

    /// <summary>The registration token an admin created (<c>POST /tcm/admin/site-servers</c>); needed on first run only. Default null.</summary>
    public string? RegistrationToken { get; set; }

    /// <summary>Most agents the Task Server accepts; past it, new agents are refused with <c>task-server-full</c>. Default 5,000, as the product.</summary>
    public int MaxAgents { get; set; } = 5000;

    /// <summary>The site the Task Server serves (for ordered lists per site). Default null.</summary>
    public string? Site { get; set; }

    /// <summary>How long the long poll on the NS waits for work. Default 25 seconds.</summary>
    public TimeSpan WorkPollWait { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>The nodes <see cref="NotificationServerUrl"/> lists, in order; null for an entry that is not an https:// URL.</summary>
    internal IReadOnlyList<Uri?> NotificationServerNodes() =>
        [.. NotificationServerUrl.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(static url => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps ? uri : null)];

    /// <summary>Longest pause between attempts to reach an unreachable NS (full-jitter back-off from 0.5 s). Default 10 seconds.</summary>
    public TimeSpan NotificationServerRetryMax { get; set; } = TimeSpan.FromSeconds(10);
}
