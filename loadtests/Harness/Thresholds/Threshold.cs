using System.Text.RegularExpressions;

namespace Tcm.LoadTests.Harness.Thresholds;

/// <summary>The outcome of one threshold on one run.</summary>
internal sealed record ThresholdResult
{
    public string Variant { get; init; } = "";
    public string Target { get; init; } = "";
    public string Text { get; init; } = "";
    public bool Passed { get; init; }

    /// <summary>The measured figure(s), or why it could not be evaluated.</summary>
    public string Actual { get; init; } = "";
}

/// <summary>
/// A pass/fail rule on statistics, as in NBomber: <c>Threshold.Create("connect", stats =&gt; stats.Fail.Percent &lt; 0.1)</c>,
/// or parsed from text: <c>connect: p99 &lt; 250ms</c>, <c>fail% &lt; 0.1</c>, <c>rps &gt; 100</c>,
/// <c>idle-hold: server-heap-per-connection &lt; 20KB</c>.
/// The target is a scenario name (its iterations), <c>scenario/step</c>, or a step name in any scenario; without a target a
/// rule applies to every scenario. A threshold that matches nothing fails, so a typo cannot pass silently.
/// </summary>
internal sealed partial class Threshold
{
    private readonly Func<StepStats, ScenarioStats, (bool Passed, string Actual)> _check;

    private Threshold(string target, string text, Func<StepStats, ScenarioStats, (bool, string)> check)
    {
        Target = target;
        Text = text;
        _check = check;
    }

    /// <summary>Scenario, <c>scenario/step</c>, step name, or empty for every scenario.</summary>
    public string Target { get; }

    /// <summary>The rule as shown in reports.</summary>
    public string Text { get; }

    /// <summary>A rule on the statistics of a step or scenario.</summary>
    public static Threshold Create(string target, Func<StepStats, bool> predicate, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return new Threshold(target, description ?? "custom rule", (step, _) => (predicate(step), Describe(step)));
    }

    /// <summary>A rule on a whole scenario (its gauges, steps and iterations).</summary>
    public static Threshold CreateForScenario(string scenario, Func<ScenarioStats, bool> predicate, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return new Threshold(scenario, description ?? "custom rule", (_, s) => (predicate(s), Describe(s.Iterations)));
    }

    /// <summary>Parses <c>[target:] metric op value[unit]</c>; throws <see cref="FormatException"/> with a clear message.</summary>
    public static Threshold Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var match = ExpressionPattern().Match(text);
        if (!match.Success)
        {
            throw new FormatException(
                $"Cannot read threshold '{text}'. Write '[scenario[/step]:] metric op value', e.g. 'connect: p99 < 250ms', 'fail% < 0.1', 'rps > 100'; " +
                "metrics: count, ok, fail, fail%, rps, min, mean, p50, p75, p95, p99, max, bytes, or a gauge name.");
        }

        var target = match.Groups["target"].Success ? match.Groups["target"].Value.Trim() : "";
        var metric = match.Groups["metric"].Value.Trim();
        var op = match.Groups["op"].Value;
        var number = double.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture);
        var unit = match.Groups["unit"].Value.Trim();
        var (limit, dimension) = Normalise(number, unit, text);
        var compare = Comparer(op);
        var canonical = (target.Length > 0 ? target + ": " : "") + $"{metric} {op} {number.ToString(CultureInfo.InvariantCulture)}{unit}";

        var builtIn = BuiltInMetric(metric);
        if (builtIn is not null)
        {
            if (builtIn.Value.Dimension != dimension && dimension != Dimension.Plain)
            {
                throw new FormatException($"Threshold '{text}': {metric} is {builtIn.Value.Dimension.ToString().ToLowerInvariant()}, but '{unit}' is not.");
            }

            var read = builtIn.Value.Read;
            return new Threshold(target, canonical, (step, _) =>
            {
                var actual = read(step);
                return (compare(actual, limit), FormatActual(metric, actual, builtIn.Value.Dimension));
            });
        }

        return new Threshold(target, canonical, (_, scenario) =>
        {
            var gauge = scenario.FindGauge(metric);
            if (gauge is null)
            {
                return (false, $"no metric or gauge '{metric}' in scenario '{scenario.Name}'");
            }

            var value = GaugeInDimension(gauge, dimension);
            return (compare(value, limit), $"{metric} = {gauge.Value.ToString("0.###", CultureInfo.InvariantCulture)} {gauge.Unit}".TrimEnd());
        });
    }

    /// <summary>Evaluates the threshold on one variant's scenarios.</summary>
    public IReadOnlyList<ThresholdResult> Evaluate(IReadOnlyList<ScenarioStats> scenarios, string variant = "")
    {
        var results = new List<ThresholdResult>();
        foreach (var (step, scenario, label) in Resolve(scenarios))
        {
            var (passed, actual) = _check(step, scenario);
            results.Add(new ThresholdResult { Variant = variant, Target = label, Text = Text, Passed = passed, Actual = actual });
        }

        if (results.Count == 0)
        {
            results.Add(new ThresholdResult
            {
                Variant = variant,
                Target = Target,
                Text = Text,
                Passed = false,
                Actual = $"no scenario or step named '{Target}' (have: {string.Join(", ", scenarios.SelectMany(s => s.Steps.Select(st => $"{s.Name}/{st.Name}").Prepend(s.Name)))})",
            });
        }

        return results;
    }

    private IEnumerable<(StepStats Step, ScenarioStats Scenario, string Label)> Resolve(IReadOnlyList<ScenarioStats> scenarios)
    {
        if (Target.Length == 0)
        {
            foreach (var scenario in scenarios)
            {
                yield return (scenario.Iterations, scenario, scenario.Name);
            }

            yield break;
        }

        var slash = Target.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var scenarioName = Target[..slash];
            var stepName = Target[(slash + 1)..];
            foreach (var scenario in scenarios.Where(s => s.Name.Equals(scenarioName, StringComparison.OrdinalIgnoreCase)))
            {
                if (scenario.FindStep(stepName) is { } step)
                {
                    yield return (step, scenario, $"{scenario.Name}/{step.Name}");
                }
            }

            yield break;
        }

        var found = false;
        foreach (var scenario in scenarios.Where(s => s.Name.Equals(Target, StringComparison.OrdinalIgnoreCase)))
        {
            found = true;
            yield return (scenario.Iterations, scenario, scenario.Name);
        }

        if (found)
        {
            yield break;
        }

        foreach (var scenario in scenarios)
        {
            if (scenario.FindStep(Target) is { } step)
            {
                yield return (step, scenario, $"{scenario.Name}/{step.Name}");
            }
        }
    }

    private enum Dimension
    {
        Plain,
        Time,
        Bytes,
    }

    private static (Func<StepStats, double> Read, Dimension Dimension)? BuiltInMetric(string metric) => metric.ToLowerInvariant() switch
    {
        "count" or "requests" => (s => s.Count, Dimension.Plain),
        "ok" => (s => s.Ok.Count, Dimension.Plain),
        "fail" or "fails" => (s => s.Fail.Count, Dimension.Plain),
        "fail%" or "fail_percent" or "failpercent" => (s => s.Fail.Percent, Dimension.Plain),
        "rps" => (s => s.Rps, Dimension.Plain),
        "ok_rps" => (s => s.Ok.Rps, Dimension.Plain),
        "min" => (s => s.Ok.Latency.MinMs, Dimension.Time),
        "mean" => (s => s.Ok.Latency.MeanMs, Dimension.Time),
        "p50" or "median" => (s => s.Ok.Latency.P50Ms, Dimension.Time),
        "p75" => (s => s.Ok.Latency.P75Ms, Dimension.Time),
        "p95" => (s => s.Ok.Latency.P95Ms, Dimension.Time),
        "p99" => (s => s.Ok.Latency.P99Ms, Dimension.Time),
        "max" => (s => s.Ok.Latency.MaxMs, Dimension.Time),
        "bytes" => (s => s.Ok.Bytes, Dimension.Bytes),
        _ => null,
    };

    /// <summary>A limit in canonical units: milliseconds for time, bytes for sizes.</summary>
    private static (double Value, Dimension Dimension) Normalise(double number, string unit, string text) => unit.ToLowerInvariant() switch
    {
        "" or "%" or "/s" => (number, Dimension.Plain),
        "us" or "µs" => (number / 1000, Dimension.Time),
        "ms" => (number, Dimension.Time),
        "s" => (number * 1000, Dimension.Time),
        "m" or "min" => (number * 60_000, Dimension.Time),
        "b" or "bytes" => (number, Dimension.Bytes),
        "kb" => (number * 1024, Dimension.Bytes),
        "mb" => (number * 1024 * 1024, Dimension.Bytes),
        "gb" => (number * 1024 * 1024 * 1024, Dimension.Bytes),
        _ => throw new FormatException($"Threshold '{text}': unknown unit '{unit}' (use us, ms, s, m, B, KB, MB, GB, %, /s)."),
    };

    private static double GaugeInDimension(GaugeValue gauge, Dimension dimension) => (dimension, gauge.Unit.ToLowerInvariant()) switch
    {
        (Dimension.Time, "s") => gauge.Value * 1000,
        (Dimension.Time, "us") => gauge.Value / 1000,
        (Dimension.Bytes, "kb") => gauge.Value * 1024,
        (Dimension.Bytes, "mb") => gauge.Value * 1024 * 1024,
        _ => gauge.Value,
    };

    private static Func<double, double, bool> Comparer(string op) => op switch
    {
        "<" => (a, b) => a < b,
        "<=" => (a, b) => a <= b,
        ">" => (a, b) => a > b,
        ">=" => (a, b) => a >= b,
        "==" or "=" => (a, b) => Math.Abs(a - b) < 1e-9,
        "!=" => (a, b) => Math.Abs(a - b) >= 1e-9,
        _ => throw new FormatException($"Unknown comparison '{op}'."),
    };

    private static string FormatActual(string metric, double value, Dimension dimension) => dimension switch
    {
        Dimension.Time => $"{metric} = {value.ToString("0.###", CultureInfo.InvariantCulture)} ms",
        Dimension.Bytes => $"{metric} = {value.ToString("0", CultureInfo.InvariantCulture)} B",
        _ => $"{metric} = {value.ToString("0.###", CultureInfo.InvariantCulture)}",
    };

    private static string Describe(StepStats s) =>
        string.Create(CultureInfo.InvariantCulture, $"count {s.Count}, fail% {s.Fail.Percent:0.###}, rps {s.Rps:0.#}, p99 {s.Ok.Latency.P99Ms:0.###} ms");

    [GeneratedRegex(@"^\s*(?:(?<target>[^:<>=!]+?)\s*:\s*)?(?<metric>[A-Za-z][\w\-\.%]*)\s*(?<op><=|>=|==|!=|<|>|=)\s*(?<number>[-+]?\d+(?:\.\d+)?)\s*(?<unit>[A-Za-zµ%/]*)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex ExpressionPattern();
}
