using System.Buffers;

namespace Tcm.NotificationServer.Cluster;

/// <summary>
/// This Notification Server node's name among the nodes that share one database (<see cref="NotificationServerOptions.NodeName"/>):
/// what the store records for each agent whose persistent connection the node holds, and how a node tells its own signals from others'.
/// </summary>
internal sealed record NodeIdentity(string Name)
{
    /// <summary>The longest node name.</summary>
    public const int MaxLength = 64;

    private static readonly SearchValues<char> NameCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:");

    /// <summary>The node of a server with <paramref name="options"/>.</summary>
    public static NodeIdentity Of(NotificationServerOptions options) => new(NameOf(options));

    /// <summary>The configured name, else <c>{ServerName}:{Port}</c> (a character a name may not hold becomes '-', cut to the longest name).</summary>
    public static string NameOf(NotificationServerOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.NodeName))
        {
            return options.NodeName.Trim();
        }

        // why: the server name is free text (the machine's name by default); the default must not make a server refuse to start.
        var suffix = $":{options.Port}";
        var server = string.Create(options.ServerName.Length, options.ServerName, static (span, text) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = NameCharacters.Contains(text[i]) ? text[i] : '-';
            }
        });
        return (server.Length + suffix.Length > MaxLength ? server[..(MaxLength - suffix.Length)] : server) + suffix;
    }

    /// <summary>What is wrong with <paramref name="name"/> as a node name (a phrase to follow the setting's name), or null.</summary>
    public static string? Problem(string name)
    {
        if (name.Length is 0 or > MaxLength)
        {
            return $"'{name}' must be 1 to {MaxLength} characters long.";
        }

        // why: the name travels in the signal's payload and in log lines; these characters need no escaping in either.
        return name.AsSpan().IndexOfAnyExcept(NameCharacters) < 0
            ? null
            : $"'{name}' may hold only letters, digits, '.', '-', '_' and ':' (set NodeName when the server name has other characters).";
    }
}
