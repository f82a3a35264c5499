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

    /// <summary>Whether the test takes <c>--store</c> and <c>--ns-nodes</c> (<see cref="NsDeployment"/>). Default: no.</summary>
    bool NsDeployments => false;

    /// <summary>
    /// Whether the baseline runs the gateway route too, through its bare relay (<see cref="Baseline.Relay.BareRelay"/>), so the
    /// gateway's CPU per relayed message has a floor from the same run. Default: no (the baseline runs direct instead).
    /// </summary>
    bool RelayBaseline => false;

    /// <summary>The scenarios of one run.</summary>
    IReadOnlyList<ScenarioProps> Build(TestContext context);
}

/// <summary>A test-specific option: <c>--name value</c>.</summary>
internal sealed record TestParameter(string Name, string Description, string Default);

/// <summary>What a load test is called and how it runs when the planner does not say: the defaults most tests share.</summary>
internal sealed record LoadTestInfo(string Name, string Description)
{
    /// <summary>Direct and through the CEM gateway (the issue's "direct and through the gateway").</summary>
    public static IReadOnlyList<AgentRoute> DirectAndGateway { get; } = [AgentRoute.Direct, AgentRoute.Gateway];

    /// <summary>Default 2,000.</summary>
    public int DefaultAgents { get; init; } = 2000;

    public required TimeSpan DefaultDuration { get; init; }

    public required string DurationMeaning { get; init; }

    /// <summary>Default HTTP/1.1 and HTTP/2.</summary>
    public IReadOnlyList<ChannelProtocol> DefaultProtocols { get; init; } = [ChannelProtocol.Http1, ChannelProtocol.Http2];

    /// <summary>Default direct.</summary>
    public IReadOnlyList<AgentRoute> DefaultRoutes { get; init; } = [AgentRoute.Direct];

    public IReadOnlyList<TestParameter> Parameters { get; init; } = [];

    public IReadOnlyList<string> DefaultThresholds { get; init; } = [];

    /// <summary>Default baseline and tcm.</summary>
    public IReadOnlyList<string> Variants { get; init; } = ["baseline", "tcm"];

    /// <summary>Whether the test takes <c>--store</c> and <c>--ns-nodes</c> (the push tests: one fleet, fan-outs through node 1).</summary>
    public bool NsDeployments { get; init; }

    /// <summary>Whether the baseline runs the gateway route through its bare relay (the push tests: CPU per relayed message).</summary>
    public bool RelayBaseline { get; init; }
}

/// <summary>A load test described by a <see cref="LoadTestInfo"/>: a test adds only the scenarios of one run.</summary>
internal abstract class LoadTest(LoadTestInfo info) : ILoadTest
{
    public string Name => info.Name;

    public string Description => info.Description;

    public int DefaultAgents => info.DefaultAgents;

    public TimeSpan DefaultDuration => info.DefaultDuration;

    public string DurationMeaning => info.DurationMeaning;

    public IReadOnlyList<ChannelProtocol> DefaultProtocols => info.DefaultProtocols;

    public IReadOnlyList<AgentRoute> DefaultRoutes => info.DefaultRoutes;

    public IReadOnlyList<TestParameter> Parameters => info.Parameters;

    public IReadOnlyList<string> DefaultThresholds => info.DefaultThresholds;

    public IReadOnlyList<string> Variants => info.Variants;

    public bool NsDeployments => info.NsDeployments;

    public bool RelayBaseline => info.RelayBaseline;

    public abstract IReadOnlyList<ScenarioProps> Build(TestContext context);
}

/// <summary>Everything a test needs to build one run: the target, how it was set up, and this process's share of the agents.</summary>
/// <param name="Target">The system under test, started.</param>
/// <param name="Settings">How the target was set up (protocol, route, shard).</param>
/// <param name="Agents">Agents of this process (its share when sharded).</param>
/// <param name="AgentOffset">First agent number of this process.</param>
internal sealed record TestContext(ILoadTarget Target, TargetSettings Settings, int Agents, int AgentOffset)
{
    public ChannelProtocol Protocol => Settings.Protocol;

    /// <summary>Direct, or through the CEM gateway.</summary>
    public AgentRoute Route => Settings.Route;

    public int Shard => Settings.Shard;

    public int Shards => Settings.Shards;

    public TimeSpan Duration { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public TextWriter Log { get; init; } = TextWriter.Null;

    /// <summary>Values of the test's own parameters (defaults filled in).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary><c>h1</c> or <c>h2</c>, the suffix of scenario names.</summary>
    public string ProtocolName => Protocol == ChannelProtocol.Http2 ? "h2" : "h1";

    /// <summary>
    /// The scenario name of test <paramref name="test"/> in this run: <c>{test}-{h1|h2}</c>, with <c>-gw</c> through the gateway
    /// (<see cref="ScenarioNames.GatewaySuffix"/>); the ratios compare a <c>-gw</c> scenario with the baseline's of the same name
    /// (through its bare relay), or with its direct one when the baseline ran none.
    /// </summary>
    public string ScenarioName(string test) => $"{test}-{ProtocolName}{(Route == AgentRoute.Gateway ? ScenarioNames.GatewaySuffix : "")}{Settings.Deployment.ScenarioSuffix}";

    /// <summary>A duration parameter.</summary>
    public TimeSpan GetDuration(string name) => DurationText.Parse(Parameters[name]);

    /// <summary>An integer parameter.</summary>
    public int GetInt(string name) => int.Parse(Parameters[name], NumberStyles.Integer, CultureInfo.InvariantCulture);
}
