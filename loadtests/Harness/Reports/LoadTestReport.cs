using System.Runtime.InteropServices;
using System.Runtime;
using Tcm.LoadTests.Harness.Thresholds;

namespace Tcm.LoadTests.Harness.Reports;

/// <summary>Everything one invocation of a load test produced: the input of every report writer and of shard merging.</summary>
internal sealed record LoadTestReport
{
    /// <summary>Format version of the JSON.</summary>
    public int SchemaVersion { get; init; } = 1;

    public string Test { get; init; } = "";
    public string Description { get; init; } = "";

    /// <summary>The command as typed (for re-running).</summary>
    public string CommandLine { get; init; } = "";

    public DateTimeOffset StartedUtc { get; init; }
    public double DurationSeconds { get; init; }
    public EnvironmentInfo Environment { get; init; } = EnvironmentInfo.Current();

    /// <summary>Settings of the run (agents, protocol, duration...), for the report header.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<VariantReport> Variants { get; init; } = [];
    public IReadOnlyList<ThresholdResult> Thresholds { get; init; } = [];

    /// <summary>TCM figures as ratios to the baseline's, when both variants ran.</summary>
    public IReadOnlyList<RatioRow> Ratios { get; init; } = [];

    /// <summary>Remarks: variants skipped, shards that failed, stop reasons.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>True when every threshold passed.</summary>
    public bool Passed => Thresholds.All(t => t.Passed);
}

/// <summary>The scenarios of one variant (baseline or tcm).</summary>
internal sealed record VariantReport
{
    public string Variant { get; init; } = "";

    /// <summary>The system under test in words.</summary>
    public string Target { get; init; } = "";

    public int Processes { get; init; } = 1;
    public string? StopReason { get; init; }
    public double DurationSeconds { get; init; }
    public IReadOnlyList<ScenarioStats> Scenarios { get; init; } = [];
}

/// <summary>A TCM figure beside the baseline's.</summary>
internal sealed record RatioRow
{
    public string Scenario { get; init; } = "";
    public string Metric { get; init; } = "";
    public string Unit { get; init; } = "";
    public double Baseline { get; init; }
    public double Tcm { get; init; }

    /// <summary>TCM / baseline; null when the baseline is 0.</summary>
    public double? Ratio { get; init; }
}

/// <summary>The machine a run was measured on.</summary>
internal sealed record EnvironmentInfo
{
    public string Machine { get; init; } = "";
    public int Cores { get; init; }
    public string Os { get; init; } = "";
    public string Runtime { get; init; } = "";
    public string Gc { get; init; } = "";
    public long TotalMemoryBytes { get; init; }

    /// <summary>This machine.</summary>
    public static EnvironmentInfo Current() => new()
    {
        Machine = System.Environment.MachineName,
        Cores = System.Environment.ProcessorCount,
        Os = RuntimeInformation.OSDescription,
        Runtime = RuntimeInformation.FrameworkDescription,
        Gc = (GCSettings.IsServerGC ? "server" : "workstation") + (GCSettings.LatencyMode == GCLatencyMode.Batch ? "" : ", concurrent"),
        TotalMemoryBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
    };
}

/// <summary>Computes TCM/baseline ratios for scenarios and steps with the same names.</summary>
internal static class Ratios
{
    /// <summary>
    /// Ratios of every comparable figure: p50, p99, rps and fail% of iterations and steps, and every gauge. A TCM scenario is
    /// compared with the baseline scenario of the same name: one through the gateway (<c>-gw</c>) with the baseline's through its
    /// bare relay where the baseline ran one (the push tests), else with the baseline's direct one, the floor of the stack.
    /// Rows are named by the TCM scenario.
    /// </summary>
    public static IReadOnlyList<RatioRow> Compute(VariantReport baseline, VariantReport tcm)
    {
        var rows = new List<RatioRow>();
        foreach (var t in tcm.Scenarios)
        {
            var baseName = Tcm.LoadTests.Variants.ScenarioNames.BaselineOf(t.Name);
            var b = baseline.Scenarios.FirstOrDefault(s => s.Name.Equals(t.Name, StringComparison.OrdinalIgnoreCase))
                    ?? baseline.Scenarios.FirstOrDefault(s => s.Name.Equals(baseName, StringComparison.OrdinalIgnoreCase));
            if (b is null)
            {
                continue;
            }

            void Add(string metric, string unit, double baseValue, double tcmValue) => rows.Add(new RatioRow
            {
                Scenario = t.Name,
                Metric = metric,
                Unit = unit,
                Baseline = baseValue,
                Tcm = tcmValue,
                Ratio = baseValue == 0 ? null : tcmValue / baseValue,
            });

            void AddStep(string prefix, StepStats bs, StepStats ts)
            {
                Add($"{prefix}p50", "ms", bs.Ok.Latency.P50Ms, ts.Ok.Latency.P50Ms);
                Add($"{prefix}p99", "ms", bs.Ok.Latency.P99Ms, ts.Ok.Latency.P99Ms);
                Add($"{prefix}rps", "/s", bs.Rps, ts.Rps);
            }

            AddStep("", b.Iterations, t.Iterations);
            foreach (var bs in b.Steps)
            {
                if (t.FindStep(bs.Name) is { } ts)
                {
                    AddStep(bs.Name + " ", bs, ts);
                }
            }

            foreach (var bg in b.Gauges.Where(g => !NotCompared.Contains(g.Name)))
            {
                if (t.FindGauge(bg.Name) is { } tg)
                {
                    Add(bg.Name, bg.Unit, bg.Value, tg.Value);
                }
            }

            // The gateway holds the agents' connections as the bare server does, and the Task Server channels as it does: their figures against the floor's.
            // why: behind its bare relay the bare server no longer holds the agents' connections; the relay is the gateway's floor there.
            var relayed = b.FindGauge("relay-cpu-per-task") is not null;
            foreach (var (gatewayGauge, baselineGauge) in GatewayFloor)
            {
                if (relayed && gatewayGauge.StartsWith("gateway-", StringComparison.Ordinal) && baselineGauge.StartsWith("server-", StringComparison.Ordinal))
                {
                    continue;
                }

                if (t.FindGauge(gatewayGauge) is { } tg && b.FindGauge(baselineGauge) is { } bg)
                {
                    Add($"{gatewayGauge} / baseline {baselineGauge}", bg.Unit, bg.Value, tg.Value);
                }
            }
        }

        return rows;
    }

    /// <summary>Gauges that describe the machine during a run, not the system under test: no ratio.</summary>
    private static readonly HashSet<string> NotCompared = new(StringComparer.OrdinalIgnoreCase) { "load-average-start", "load-average-end" };

    /// <summary>
    /// Gateway, Task Server, NS node and PostgreSQL gauges and the baseline server's gauge each is compared with (each node and
    /// PostgreSQL does part of what the bare server does alone); the gateway's CPU also with the bare relay's, when the baseline ran one.
    /// </summary>
    private static readonly (string Gateway, string Baseline)[] GatewayFloor =
    [
        ("gateway-heap-per-agent", "server-heap-per-connection"),
        ("gateway-ws-per-agent", "server-ws-per-connection"),
        ("gateway-idle-cpu", "server-idle-cpu"),
        ("gateway-idle-cpu-per-1k-channels", "server-idle-cpu-per-1k-channels"),
        ("task-server-idle-cpu", "server-idle-cpu"),
        ("task-server-idle-cpu-per-1k-channels", "server-idle-cpu-per-1k-channels"),
        ("gateway-cpu-per-task", "server-cpu-per-task"),
        ("gateway-cpu-per-task", "relay-cpu-per-task"),
        ("gateway-cpu-per-relayed-message", "relay-cpu-per-relayed-message"),
        ("postgres-cpu-per-task", "server-cpu-per-task"),
        ("ns-and-postgres-cpu-per-task", "server-cpu-per-task"),
        .. Enumerable.Range(1, Tcm.LoadTests.Variants.NsDeployment.MaxNodes).Select(n => ($"node{n}-cpu-per-task", "server-cpu-per-task")),
    ];
}
