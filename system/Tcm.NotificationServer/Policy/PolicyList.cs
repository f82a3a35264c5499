using System.Text.Json.Serialization.Metadata;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Policy;

/// <summary>
/// One ordered list of policies in the configuration (communication profiles, targeted agent settings): its table and JSON,
/// where it sits in <see cref="PolicyConfiguration"/>, and its matching order. The service and the admin API change and read
/// either list through it.
/// </summary>
/// <param name="Table">The store's table (columns id, name, priority, body).</param>
/// <param name="Json">The body's JSON.</param>
/// <param name="Key">A policy's id, name and priority.</param>
/// <param name="Get">The list in a configuration.</param>
/// <param name="Set">A configuration with the list replaced.</param>
internal sealed record PolicyList<T>(
    string Table,
    JsonTypeInfo<T> Json,
    Func<T, PolicyKey> Key,
    Func<PolicyConfiguration, IReadOnlyList<T>> Get,
    Func<PolicyConfiguration, IReadOnlyList<T>, PolicyConfiguration> Set)
{
    /// <summary>The policies in matching order: priority, then name, then id.</summary>
    public IReadOnlyList<T> Sort(IEnumerable<T> policies) =>
        [.. policies.OrderBy(p => Key(p).Priority).ThenBy(p => Key(p).Name, StringComparer.Ordinal).ThenBy(p => Key(p).Id, StringComparer.Ordinal)];
}

/// <summary>What orders and identifies a policy.</summary>
internal readonly record struct PolicyKey(string Id, string Name, int Priority);

/// <summary>The two lists of policies an agent's policy is computed from.</summary>
internal static class PolicyLists
{
    public static PolicyList<CommunicationProfile> Profiles { get; } = new(
        "profiles", ProtocolJsonContext.Default.CommunicationProfile, static p => new(p.Id, p.Name, p.Priority),
        static c => c.Profiles, static (c, list) => c with { Profiles = list });

    public static PolicyList<TargetedAgentSettings> TargetedSettings { get; } = new(
        "targeted_settings", ProtocolJsonContext.Default.TargetedAgentSettings, static s => new(s.Id, s.Name, s.Priority),
        static c => c.TargetedSettings, static (c, list) => c with { TargetedSettings = list });
}
