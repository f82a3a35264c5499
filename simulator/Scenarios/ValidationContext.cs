using System.Globalization;
using System.Text.RegularExpressions;
using Tcm.Protocol.Admin;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tcm.Simulator.Scenarios;

/// <summary>
/// What the section validators share while they check one file: the errors so far (each at the file, line and column of
/// the value), the names declared so far (groups, event ids) and typed readers of leaf values that report a value of the
/// wrong form instead of throwing.
/// </summary>
internal sealed partial class ValidationContext(string file) : IScenarioNames
{
    public static readonly IReadOnlyDictionary<string, AgentLocation> Locations = new Dictionary<string, AgentLocation>() { ["office"] = AgentLocation.Office, ["internet"] = AgentLocation.Internet };
    public static readonly IReadOnlyDictionary<string, VpnState> VpnStates = new Dictionary<string, VpnState>() { ["none"] = VpnState.None, ["down"] = VpnState.Down, ["up"] = VpnState.Up };
    public static readonly IReadOnlyDictionary<string, GroupProxy> GroupProxies = new Dictionary<string, GroupProxy>() { ["none"] = GroupProxy.None, ["only"] = GroupProxy.Only, ["or-direct"] = GroupProxy.OrDirect };
    public static readonly IReadOnlyDictionary<string, EndpointClass> ProxyReaches = new Dictionary<string, EndpointClass>() { ["office"] = EndpointClass.Corporate, ["anywhere"] = EndpointClass.Public };
    public static readonly IReadOnlyDictionary<string, CemValidity> CemStates = new Dictionary<string, CemValidity>() { ["valid"] = CemValidity.Valid, ["missing"] = CemValidity.Missing, ["invalid"] = CemValidity.Invalid, ["wrong-port"] = CemValidity.WrongPort };
    public static readonly IReadOnlyDictionary<string, ConnectionMode> Modes = new Dictionary<string, ConnectionMode>() { ["direct"] = ConnectionMode.Direct, ["cem"] = ConnectionMode.Cem, ["offline"] = ConnectionMode.Offline };
    public static readonly IReadOnlyDictionary<string, TransportKind> Transports = new Dictionary<string, TransportKind>() { ["persistent"] = TransportKind.Persistent, ["http"] = TransportKind.Http };

    public string File { get; } = file;
    public List<ScenarioError> Errors { get; } = [];

    // :: what later sections may refer to
    public List<string> GroupList { get; } = [];
    /// <summary>The VPN adapters the groups' machines have, for <c>adapter:</c> of <c>vpn-up</c>/<c>vpn-down</c>.</summary>
    public List<VpnAdapterSpec> VpnAdapterList { get; } = [];
    public Dictionary<string, string> EventKinds { get; } = new(StringComparer.Ordinal);
    public bool Legacy { get; set; }
    /// <summary>The lab's settings, or null when the system is external (server actions are checked against it).</summary>
    public LabSystem? Lab { get; set; } = new();

    IReadOnlyCollection<string> IScenarioNames.Groups => GroupList;
    IReadOnlyDictionary<string, string> IScenarioNames.Events => EventKinds;
    bool IScenarioNames.LegacyCompare => Legacy;
    IReadOnlyCollection<string> IScenarioNames.Nodes => Lab?.NodeNames ?? [];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$", RegexOptions.CultureInvariant)]
    public static partial Regex IdentifierPattern();

    // ------------------------------------------------------------ errors and positions

    public void Error(Mark mark, string message) => Errors.Add(new ScenarioError(File, (int)mark.Line, (int)mark.Column, message));

    public void Error(SourcePosition position, string message) => Errors.Add(new ScenarioError(File, position.Line, position.Column, message));

    /// <summary>An error of the expression in <paramref name="node"/>, at its column on a one-line scalar (after an opening quote).</summary>
    public void ErrorInScalar(YamlScalarNode node, ExpressionError error)
    {
        var quote = node.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted ? 1 : 0;
        var singleLine = node.Start.Line == node.End.Line;
        var column = singleLine ? (int)node.Start.Column + quote + error.Offset : (int)node.Start.Column;
        Errors.Add(new ScenarioError(File, (int)node.Start.Line, column, error.Message));
    }

    public static SourcePosition Position(Mark mark) => new((int)mark.Line, (int)mark.Column);

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode { Value: null or "" } => "nothing",
        YamlScalarNode s => $"'{s.Value}'",
        _ => "something else",
    };

    /// <summary>
    /// Whether <paramref name="section"/> is a mapping; when it is not, reports <paramref name="expected"/> with what it is instead.
    /// When it is and <paramref name="allowed"/> is given, its keys are checked against them (<see cref="CheckKeys"/>).
    /// </summary>
    public bool IsMapping(YamlSection section, string expected, string? context = null, IReadOnlyCollection<string>? allowed = null)
    {
        if (section.Other is { } other)
        {
            Error(other.Start, $"{expected} (got {Describe(other)})");
            return false;
        }

        if (context is not null && allowed is not null)
        {
            CheckKeys(section, context, allowed);
        }

        return true;
    }

    /// <summary>
    /// Reports the keys of <paramref name="section"/> not in <paramref name="allowed"/>, with a did-you-mean;
    /// <paramref name="explainUnknown"/> may give a better message for a key (an empty one: report nothing).
    /// </summary>
    public void CheckKeys(YamlSection section, string context, IReadOnlyCollection<string> allowed, Func<string, string?>? explainUnknown = null)
    {
        foreach (var keyNode in section.Keys)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                Error(keyNode.Start, $"keys in {context} must be plain words (got {Describe(keyNode)})");
                continue;
            }

            if (allowed.Contains(key))
            {
                continue;
            }

            var caseMatch = allowed.FirstOrDefault(a => a.Equals(key, StringComparison.OrdinalIgnoreCase));
            if (caseMatch is not null)
            {
                Error(keyNode.Start, $"unknown key '{key}' in {context}; did you mean '{caseMatch}'? (keys are case-sensitive)");
            }
            else if (explainUnknown?.Invoke(key) is { } explanation)
            {
                if (explanation.Length > 0)
                {
                    Error(keyNode.Start, explanation);
                }
            }
            else
            {
                Error(keyNode.Start, $"unknown key '{key}' in {context}{Suggestions.Hint(key, allowed)}");
            }
        }
    }

    // ------------------------------------------------------------ leaf values

    public string? Scalar(YamlNode node, string key)
    {
        if (node is YamlScalarNode { Value: { Length: > 0 } value })
        {
            return value;
        }

        Error(node.Start, node is YamlScalarNode ? $"'{key}' needs a value" : $"'{key}' must be a single value (got {Describe(node)})");
        return null;
    }

    public string? Text(YamlNode node, string key) => Scalar(node, key)?.Trim();

    public int? Int(YamlNode node, string key, int min, int max)
    {
        if (Scalar(node, key) is not { } text)
        {
            return null;
        }

        var cleaned = text.Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);
        if (!int.TryParse(cleaned, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Error(node.Start, $"'{key}' must be a whole number (got '{text}')");
            return null;
        }

        if (value < min || value > max)
        {
            Error(node.Start, max == int.MaxValue ? $"'{key}' must be at least {min} (got {value})" : $"'{key}' must be between {min} and {max} (got {value})");
            return null;
        }

        return value;
    }

    public bool? Bool(YamlNode node, string key)
    {
        switch (Scalar(node, key)?.Trim().ToLowerInvariant())
        {
            case null: return null;
            case "true" or "yes" or "on": return true;
            case "false" or "no" or "off": return false;
            default:
                Error(node.Start, $"'{key}' must be true or false (on/off) (got '{((YamlScalarNode)node).Value}')");
                return null;
        }
    }

    /// <summary>The text of a key its section needs; when the key is missing, reports <paramref name="missing"/> at the section.</summary>
    public string? RequiredText(YamlNode? node, string key, Mark section, string missing)
    {
        if (node is not null)
        {
            return Text(node, key);
        }

        Error(section, missing);
        return null;
    }

    public TimeSpan? Duration(YamlNode node, string key) => Parsed<TimeSpan>(node, key, DurationText.TryParse, "a duration like 500ms, 30s or 2m");

    public TimeSpan? PositiveDuration(YamlNode node, string key)
    {
        var value = Duration(node, key);
        if (value is { } v && v <= TimeSpan.Zero)
        {
            Error(node.Start, $"'{key}' must be more than 0");
            return null;
        }

        return value;
    }

    public double? Percent(YamlNode node, string key) => Parsed<double>(node, key, DurationText.TryParsePercent, "a percentage like 25%");

    public long? Size(YamlNode node, string key) => Parsed<long>(node, key, (string text, out long bytes) => DurationText.TryParseSize(text, out bytes) && bytes > 0, "a size like 512KB or 50MB");

    /// <summary>A single value read by <paramref name="parse"/>; one it refuses is reported as not <paramref name="form"/>.</summary>
    private T? Parsed<T>(YamlNode node, string key, TryParse<T> parse, string form)
        where T : struct
    {
        if (Scalar(node, key) is not { } text)
        {
            return null;
        }

        if (parse(text, out var value))
        {
            return value;
        }

        Error(node.Start, $"'{key}' must be {form} (got '{text}')");
        return null;
    }

    public T? Word<T>(YamlNode node, string key, IReadOnlyDictionary<string, T> words)
        where T : struct
    {
        if (Scalar(node, key) is not { } text)
        {
            return null;
        }

        if (words.TryGetValue(text.Trim().ToLowerInvariant(), out var value))
        {
            return value;
        }

        var closest = Suggestions.Closest(text, words.Keys);
        Error(node.Start, $"'{key}' must be one of {string.Join(", ", words.Keys)} (got '{text}')" + (closest is null ? "" : $"; did you mean '{closest}'?"));
        return null;
    }

    /// <summary>A list of single values; one value stands for a list of one.</summary>
    public List<string>? StringList(YamlNode node, string key)
    {
        switch (node)
        {
            case YamlScalarNode { Value: { Length: > 0 } single }:
                return [single];
            case YamlSequenceNode sequence:
            {
                var list = new List<string>();
                foreach (var item in sequence.Children)
                {
                    if (item is YamlScalarNode { Value: { Length: > 0 } text })
                    {
                        list.Add(text);
                    }
                    else
                    {
                        Error(item.Start, $"'{key}' items must be single values (got {Describe(item)})");
                    }
                }

                return list;
            }

            default:
                Error(node.Start, $"'{key}' must be a list like [a, b] (got {Describe(node)})");
                return null;
        }
    }

    public Dictionary<string, string> StringMap(YamlNode node, string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is not YamlMappingNode mapping)
        {
            Error(node.Start, $"'{key}' must be a mapping like {{ text: hello }} (got {Describe(node)})");
            return result;
        }

        foreach (var (k, v) in mapping.Children)
        {
            if (k is YamlScalarNode { Value: { } name } && v is YamlScalarNode scalar)
            {
                result[name] = scalar.Value ?? "";
            }
            else
            {
                Error(v.Start, $"'{key}' values must be single values (got {Describe(v)})");
            }
        }

        return result;
    }

    private delegate bool TryParse<T>(string text, out T value);
}
