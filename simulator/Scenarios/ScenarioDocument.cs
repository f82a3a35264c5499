using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tcm.Simulator.Scenarios;

/// <summary>
/// A mapping of a scenario file as <see cref="ScenarioDeserializer"/> reads it: one property per key (its camelCase name is
/// the key), each value as written with its position (<see cref="YamlNode"/>) or a nested section. Nothing is checked here;
/// the validators check the values and build the <see cref="Scenario"/>.
/// </summary>
internal abstract class YamlSection
{
    /// <summary>Where the value starts.</summary>
    public Mark Start { get; set; }

    /// <summary>The value when it is not a mapping (a scalar, possibly empty, or a list); the validator decides whether that form means something.</summary>
    public YamlNode? Other { get; set; }

    /// <summary>Every key of the mapping in file order: known keys, unknown keys and keys that are not plain words.</summary>
    public List<YamlNode> Keys { get; } = [];

    /// <summary>How errors name the value: "a mapping", "a list", "nothing" or the quoted text.</summary>
    public string Shape => Other is null ? "a mapping" : ValidationContext.Describe(Other);

    /// <summary>The key node of <paramref name="key"/>, for errors about the whole entry.</summary>
    public YamlScalarNode KeyOf(string key) => Keys.OfType<YamlScalarNode>().First(k => k.Value == key);
}

/// <summary>A list of sections (<c>groups</c>, <c>timeline</c>, <c>codebases</c>).</summary>
internal sealed class SectionList<T> : YamlSection, ISectionList
    where T : YamlSection
{
    void ISectionList.Add(object? item) => Items.Add((T)item!);

    void ISectionList.SetSingle(object? item) => Single = (T?)item;

    /// <summary>The items when the value is a list.</summary>
    public List<T> Items { get; } = [];

    /// <summary>The value read as one item when it is not a list (<c>codebases: unc</c>); lists that need a list report it.</summary>
    public T? Single { get; set; }
}

/// <summary>The whole file.</summary>
internal sealed class ScenarioDocument : YamlSection
{
    public YamlNode? Name { get; set; }
    public YamlNode? Description { get; set; }
    public YamlNode? Seed { get; set; }
    public YamlNode? Duration { get; set; }
    /// <summary><c>system: lab</c> is <see cref="YamlSection.Other"/>.</summary>
    public SystemDocument? System { get; set; }
    public FleetDocument? Fleet { get; set; }
    public SettingsDocument? Settings { get; set; }
    public SectionList<EventDocument>? Timeline { get; set; }
    /// <summary>A mapping of name: expression, or a list of expressions.</summary>
    public YamlNode? Expect { get; set; }
}

internal sealed class SystemDocument : YamlSection
{
    public LabDocument? Lab { get; set; }
    public ExternalDocument? External { get; set; }
}

internal sealed class LabDocument : YamlSection
{
    public YamlNode? Tcm { get; set; }
    public YamlNode? TaskServers { get; set; }
    public YamlNode? Gateway { get; set; }
    public YamlNode? Persistent { get; set; }
    /// <summary>A mapping, or <c>on</c>/<c>off</c> (in <see cref="YamlSection.Other"/>).</summary>
    public ProxyDocument? Proxy { get; set; }
    public YamlNode? Store { get; set; }
    public YamlNode? NsNodes { get; set; }
}

internal sealed class ProxyDocument : YamlSection
{
    public YamlNode? Reach { get; set; }
    public YamlNode? Credentials { get; set; }
}

internal sealed class ExternalDocument : YamlSection
{
    public YamlNode? Url { get; set; }
    public YamlNode? AdminKey { get; set; }
    public YamlNode? CaFile { get; set; }
}

internal sealed class FleetDocument : YamlSection
{
    public YamlNode? Agents { get; set; }
    public SectionList<GroupDocument>? Groups { get; set; }
    public YamlNode? Legacy { get; set; }
}

internal sealed class GroupDocument : YamlSection
{
    public YamlNode? Name { get; set; }
    public YamlNode? Share { get; set; }
    public YamlNode? Count { get; set; }
    public YamlNode? Location { get; set; }
    public YamlNode? Vpn { get; set; }
    /// <summary>A preset name is <see cref="YamlSection.Other"/>.</summary>
    public VpnAdapterDocument? VpnAdapter { get; set; }
    /// <summary>Several VPN clients: a list of presets or <c>{ name, description }</c>.</summary>
    public SectionList<VpnAdapterDocument>? VpnAdapters { get; set; }
    public YamlNode? Cem { get; set; }
    public YamlNode? Persistent { get; set; }
    public YamlNode? Proxy { get; set; }
    public YamlNode? Os { get; set; }
    public YamlNode? Site { get; set; }
    public TaskDocument? Task { get; set; }
}

internal sealed class VpnAdapterDocument : YamlSection
{
    public YamlNode? Name { get; set; }
    public YamlNode? Description { get; set; }
}

internal sealed class TaskDocument : YamlSection
{
    public YamlNode? Duration { get; set; }
    public YamlNode? FailureRate { get; set; }
}

/// <summary>Targeted agent settings: <c>settings:</c> at the top and in <c>set-settings</c>.</summary>
internal sealed class SettingsDocument : YamlSection
{
    public YamlNode? VpnAdapters { get; set; }
    public YamlNode? PreferCem { get; set; }
    public YamlNode? PreferCemIfVpn { get; set; }
    public YamlNode? PolicyRefresh { get; set; }
    public YamlNode? TaskPoll { get; set; }
    public YamlNode? KeepAlive { get; set; }
}

/// <summary>
/// One timeline event: its own keys, and the keys of every action, since which of them apply depends on <c>do</c>
/// (<see cref="TimelineValidator"/> reports the others).
/// </summary>
internal sealed class EventDocument : YamlSection
{
    public YamlNode? Id { get; set; }
    public YamlNode? At { get; set; }
    public YamlNode? After { get; set; }
    public YamlNode? Delay { get; set; }
    public YamlNode? Timeout { get; set; }
    public YamlNode? Do { get; set; }
    /// <summary><c>select: all</c>, a group name or a list of names is <see cref="YamlSection.Other"/>.</summary>
    public SelectDocument? Select { get; set; }

    public YamlNode? Ramp { get; set; }
    public YamlNode? To { get; set; }
    public YamlNode? Tcm { get; set; }
    public SettingsDocument? Settings { get; set; }
    public YamlNode? Command { get; set; }
    public YamlNode? Name { get; set; }
    public YamlNode? Parameters { get; set; }
    public YamlNode? Waves { get; set; }
    public YamlNode? Classes { get; set; }
    public YamlNode? ReconnectAfter { get; set; }
    public YamlNode? Server { get; set; }
    public YamlNode? Package { get; set; }
    public YamlNode? Size { get; set; }
    /// <summary>A single kind (not a list) is <see cref="YamlSection.Other"/>.</summary>
    public SectionList<CodebaseDocument>? Codebases { get; set; }
    public YamlNode? Adapter { get; set; }
    public YamlNode? Profile { get; set; }
    /// <summary><c>all</c>, <c>none</c>, a group, a list of groups, or a mapping of attribute patterns (checked by <see cref="ActionValidator"/>).</summary>
    public YamlNode? Targets { get; set; }
    public YamlNode? Persistent { get; set; }
    public YamlNode? Cem { get; set; }
    public YamlNode? Priority { get; set; }
}


internal sealed class SelectDocument : YamlSection
{
    public YamlNode? Group { get; set; }
    public YamlNode? Share { get; set; }
    public YamlNode? Count { get; set; }
    public WhereDocument? Where { get; set; }
}

internal sealed class WhereDocument : YamlSection
{
    public YamlNode? Location { get; set; }
    public YamlNode? Vpn { get; set; }
    public YamlNode? Cem { get; set; }
    public YamlNode? Mode { get; set; }
    public YamlNode? Transport { get; set; }
    public YamlNode? Os { get; set; }
    public YamlNode? Site { get; set; }
    public YamlNode? ComputerName { get; set; }
    public YamlNode? Domain { get; set; }
}

/// <summary>A codebase of <c>download-package</c>: <c>{ kind: unc, site: London }</c>; a bare kind is <see cref="YamlSection.Other"/>.</summary>
internal sealed class CodebaseDocument : YamlSection
{
    public YamlNode? Kind { get; set; }
    public YamlNode? Site { get; set; }
}

/// <summary>What <see cref="ScenarioDeserializer"/> fills a <see cref="SectionList{T}"/> through.</summary>
internal interface ISectionList
{
    void Add(object? item);

    void SetSingle(object? item);
}
