using System.Globalization;
using Tcm.LoadTests.Harness;
using Tcm.LoadTests.Variants;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// A load test: written once against <see cref="ILoadTarget"/>, run for every variant (baseline, tcm) and protocol, each
/// run a fresh target. <see cref="Build"/> returns the scenarios of one run.
/// </summary>
internal interface ILoadTest
{
    /// <summary>Command name, e.g. <c>connect-storm</c>.</summary>
    string Name { get; }

    /// <summary>One line for <c>list</c>.</summary>
    string Description { get; }

    /// <summary>Default <c>--agents</c>.</summary>
    int DefaultAgents { get; }

    /// <summary>Default <c>--duration</c> (what it bounds is test-specific and stated in <see cref="DurationMeaning"/>).</summary>
    TimeSpan DefaultDuration { get; }

    /// <summary>What <c>--duration</c> means for this test.</summary>
    string DurationMeaning { get; }

    /// <summary>Protocols run when <c>--protocol</c> is not given.</summary>
    IReadOnlyList<ChannelProtocol> DefaultProtocols { get; }

    /// <summary>Routes run when <c>--route</c> is not given. Default: direct.</summary>
    IReadOnlyList<AgentRoute> DefaultRoutes => [AgentRoute.Direct];

    /// <summary>Options of this test beyond the common ones.</summary>
    IReadOnlyList<TestParameter> Parameters { get; }

    /// <summary>Thresholds applied unless <c>--threshold</c> replaces them.</summary>
    IReadOnlyList<string> DefaultThresholds { get; }

    /// <summary>The variants this test has (others are skipped with a note). Default: baseline and tcm.</summary>
    IReadOnlyList<string> Variants => ["baseline", "tcm"];

    /// <summary>The scenarios of one run.</summary>
    IReadOnlyList<ScenarioProps> Build(TestContext context);
}

/// <summary>A test-specific option: <c>--name value</c>.</summary>
internal sealed record TestParameter(string Name, string Description, string Default);

/// <summary>Everything a test needs to build one run.</summary>
internal sealed record TestContext
{
    public required ILoadTarget Target { get; init; }
    public ChannelProtocol Protocol { get; init; }

    /// <summary>Direct, or through the CEM gateway.</summary>
    public AgentRoute Route { get; init; } = AgentRoute.Direct;

    /// <summary>Agents of this process (its share when sharded).</summary>
    public int Agents { get; init; }

    /// <summary>First agent number of this process.</summary>
    public int AgentOffset { get; init; }

    public TimeSpan Duration { get; init; }
    public int Shard { get; init; }
    public int Shards { get; init; } = 1;
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public TextWriter Log { get; init; } = TextWriter.Null;

    /// <summary>Values of the test's own parameters (defaults filled in).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary><c>h1</c> or <c>h2</c>, the suffix of scenario names.</summary>
    public string ProtocolName => Protocol == ChannelProtocol.Http2 ? "h2" : "h1";

    /// <summary>
    /// The scenario name of test <paramref name="test"/> in this run: <c>{test}-{h1|h2}</c>, with <c>-gw</c> through the gateway
    /// (<see cref="ScenarioNames.GatewaySuffix"/>); the ratios compare a <c>-gw</c> scenario with the baseline's direct one.
    /// </summary>
    public string ScenarioName(string test) => $"{test}-{ProtocolName}{(Route == AgentRoute.Gateway ? ScenarioNames.GatewaySuffix : "")}";

    /// <summary>A duration parameter.</summary>
    public TimeSpan GetDuration(string name) => DurationText.Parse(Parameters[name]);

    /// <summary>An integer parameter.</summary>
    public int GetInt(string name) => int.Parse(Parameters[name], NumberStyles.Integer, CultureInfo.InvariantCulture);
}

/// <summary>Durations as planners type them: <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, <c>1m30s</c>, or <c>00:01:30</c>.</summary>
internal static class DurationText
{
    /// <summary>Parses a duration; throws <see cref="FormatException"/> with the accepted forms.</summary>
    public static TimeSpan Parse(string text)
    {
        if (TryParse(text, out var value))
        {
            return value;
        }

        throw new FormatException($"'{text}' is not a duration: use e.g. 500ms, 30s, 2m, 1h, 1m30s or 00:01:30.");
    }

    /// <summary>Parses a duration.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        }

        var match = System.Text.RegularExpressions.Regex.Match(text, @"^(?:(?<n>\d+(?:\.\d+)?)(?<u>ms|s|m|h))+$");
        if (!match.Success)
        {
            return false;
        }

        var total = TimeSpan.Zero;
        for (var i = 0; i < match.Groups["n"].Captures.Count; i++)
        {
            var n = double.Parse(match.Groups["n"].Captures[i].Value, CultureInfo.InvariantCulture);
            total += match.Groups["u"].Captures[i].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                _ => TimeSpan.FromHours(n),
            };
        }

        value = total;
        return true;
    }

    /// <summary>A short text for a duration (<c>1m30s</c>).</summary>
    public static string Format(TimeSpan value) =>
        value.TotalSeconds < 1 ? $"{value.TotalMilliseconds:0}ms"
        : value.TotalMinutes < 1 ? $"{value.TotalSeconds:0.#}s"
        : value.Seconds == 0 ? $"{(int)value.TotalMinutes}m" : $"{(int)value.TotalMinutes}m{value.Seconds}s";
}
