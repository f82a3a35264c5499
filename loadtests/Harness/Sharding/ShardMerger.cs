using Tcm.LoadTests.Harness.Reports;

namespace Tcm.LoadTests.Harness.Sharding;

/// <summary>
/// Merges the JSON reports of shards (child processes that each ran a share of the agents) into one. Histograms merge
/// exactly, counts and bytes add up, rates are recomputed over the longest shard's duration, gauges combine by their
/// <see cref="GaugeMerge"/> rule, and time series align by whole second.
/// </summary>
internal static class ShardMerger
{
    /// <summary>Merges the scenarios of several shards of one variant.</summary>
    public static IReadOnlyList<ScenarioStats> MergeScenarios(IReadOnlyList<IReadOnlyList<ScenarioStats>> shards)
    {
        var names = shards.SelectMany(s => s.Select(x => x.Name)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return names.Select(name => Merge(shards.SelectMany(s => s.Where(x => x.Name.Equals(name, StringComparison.OrdinalIgnoreCase))).ToList())).ToList();
    }

    /// <summary>Merges one scenario's statistics from several shards.</summary>
    public static ScenarioStats Merge(IReadOnlyList<ScenarioStats> parts)
    {
        if (parts.Count == 0)
        {
            throw new ArgumentException("Nothing to merge.", nameof(parts));
        }

        var duration = parts.Max(p => p.DurationSeconds);
        var stepNames = parts.SelectMany(p => p.Steps.Select(s => s.Name)).Distinct(StringComparer.Ordinal).ToList();
        return new ScenarioStats
        {
            Name = parts[0].Name,
            DurationSeconds = duration,
            StopReason = parts.Select(p => p.StopReason).FirstOrDefault(r => r is not null),
            Shards = parts.Sum(p => p.Shards),
            Iterations = MergeSteps(parts[0].Iterations.Name, parts.Select(p => p.Iterations).ToList(), duration),
            Steps = stepNames.Select(n => MergeSteps(n, parts.Select(p => p.FindStep(n)).OfType<StepStats>().ToList(), duration)).ToList(),
            Gauges = MergeGauges(parts.Select(p => p.Gauges).ToList()),
            TimeSeries = MergeSeries(parts.Select(p => p.TimeSeries).ToList()),
        };
    }

    /// <summary>Merges one step's statistics.</summary>
    public static StepStats MergeSteps(string name, IReadOnlyList<StepStats> parts, double durationSeconds)
    {
        var histogram = new LogHistogram();
        foreach (var part in parts)
        {
            histogram.Add(LogHistogram.FromData(part.Histogram));
        }

        var messages = parts.SelectMany(p => p.Fail.Messages)
            .GroupBy(m => m.Message, StringComparer.Ordinal)
            .Select(g => new FailMessage(g.Key, g.Sum(m => m.Count)))
            .OrderByDescending(m => m.Count)
            .Take(10)
            .ToList();
        return StepCollector.Build(name, parts.Sum(p => p.Ok.Count), parts.Sum(p => p.Fail.Count), parts.Sum(p => p.Ok.Bytes), histogram, durationSeconds, messages);
    }

    /// <summary>Combines gauges of the same name by their merge rule.</summary>
    public static IReadOnlyList<GaugeValue> MergeGauges(IReadOnlyList<IReadOnlyList<GaugeValue>> parts)
    {
        var order = parts.SelectMany(p => p.Select(g => g.Name)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return order.Select(name =>
        {
            var values = parts.SelectMany(p => p.Where(g => g.Name.Equals(name, StringComparison.OrdinalIgnoreCase))).ToList();
            var first = values[0];
            var merged = first.Merge switch
            {
                GaugeMerge.Sum => values.Sum(v => v.Value),
                GaugeMerge.Max => values.Max(v => v.Value),
                GaugeMerge.Min => values.Min(v => v.Value),
                _ => values.Average(v => v.Value),
            };
            return first with { Value = merged };
        }).ToList();
    }

    /// <summary>Aligns time series by whole second and adds them up; latency percentiles come from merged interval histograms.</summary>
    public static IReadOnlyList<TimeSeriesPoint> MergeSeries(IReadOnlyList<IReadOnlyList<TimeSeriesPoint>> parts)
    {
        return parts
            .SelectMany(p => p)
            .GroupBy(p => (long)Math.Round(p.Seconds))
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var points = g.ToList();
                var stepNames = points.SelectMany(p => p.Steps.Select(s => s.Name)).Distinct(StringComparer.Ordinal);
                return new TimeSeriesPoint
                {
                    Seconds = g.Key,
                    IntervalSeconds = points.Average(p => p.IntervalSeconds),
                    Connections = points.Sum(p => p.Connections),
                    WorkingSetBytes = points.Sum(p => p.WorkingSetBytes),
                    ManagedHeapBytes = points.Sum(p => p.ManagedHeapBytes),
                    Iterations = MergeSample(points[0].Iterations.Name, points.Select(p => p.Iterations)),
                    Steps = stepNames.Select(n => MergeSample(n, points.SelectMany(p => p.Steps.Where(s => s.Name == n)))).ToList(),
                };
            })
            .ToList();
    }

    private static SeriesSample MergeSample(string name, IEnumerable<SeriesSample> samples)
    {
        var list = samples.ToList();
        var histogram = new LogHistogram();
        foreach (var sample in list.Where(s => s.Histogram is not null))
        {
            histogram.Add(LogHistogram.FromData(sample.Histogram!));
        }

        return new SeriesSample
        {
            Name = name,
            Ok = list.Sum(s => s.Ok),
            Fail = list.Sum(s => s.Fail),
            P50Ms = histogram.Percentile(50) / 1000.0,
            P99Ms = histogram.Percentile(99) / 1000.0,
            Histogram = histogram.Count == 0 ? null : histogram.ToData(),
        };
    }
}
