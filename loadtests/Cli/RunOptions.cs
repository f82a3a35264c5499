namespace Tcm.LoadTests.Cli;

/// <summary>The options of one invocation of a test, validated.</summary>
internal sealed record RunOptions
{
    public int Agents { get; init; }
    public TimeSpan Duration { get; init; }
    public string Target { get; init; } = "lab";
    public string? CaPath { get; init; }
    public bool ServerInOwnProcess { get; init; } = true;
    public string? ReportFolder { get; init; }
    public int Processes { get; init; } = 1;
    public IReadOnlyList<string> Variants { get; init; } = ["baseline", "tcm"];

    /// <summary>True when the planner named the variant(s) explicitly (an unavailable one is then an error).</summary>
    public bool VariantExplicit { get; init; }

    public IReadOnlyList<ChannelProtocol> Protocols { get; init; } = [];

    /// <summary>tcm: run a Task Server too (two channels per agent, tasks through it).</summary>
    public bool TaskServer { get; init; }

    /// <summary>The baseline's gateway route through its bare relay (<c>--bare-relay on</c>, where the test has one); off runs it direct only.</summary>
    public bool BareRelay { get; init; } = true;

    /// <summary>tcm: the Notification Server deployments to run, in order (<c>--store</c> times <c>--ns-nodes</c>); the baseline runs once.</summary>
    public IReadOnlyList<NsDeployment> Deployments { get; init; } = [NsDeployment.Default];

    /// <summary>Routes to run; a variant runs those it has (the baseline is direct only).</summary>
    public IReadOnlyList<AgentRoute> Routes { get; init; } = [AgentRoute.Direct];
    public IReadOnlyList<string> Thresholds { get; init; } = [];
    public bool DefaultThresholds { get; init; } = true;
    public bool Plain { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>Set in a shard child: its number and the number of shards.</summary>
    public int Shard { get; init; }

    public int Shards { get; init; } = 1;

    /// <summary>Set in a shard child: where to write its JSON.</summary>
    public string? JsonOut { get; init; }

    public bool IsShard => JsonOut is not null;

    /// <summary>The command as typed.</summary>
    public string CommandLine { get; init; } = "";

    /// <summary>How a target is set up for the run of <paramref name="protocol"/> over <paramref name="route"/>.</summary>
    public TargetSettings TargetSettings(ChannelProtocol protocol, AgentRoute route, TextWriter log, NsDeployment? deployment = null) => new()
    {
        Protocol = protocol,
        Route = route,
        TaskServer = TaskServer,
        Deployment = deployment ?? NsDeployment.Default,
        Target = Target,
        ServerInOwnProcess = ServerInOwnProcess,
        CaCertificatePath = CaPath,
        Shard = Shard,
        Shards = Shards,
        Log = log,
    };

    /// <summary><c>direct</c> or <c>gateway</c>, as <c>--route</c> takes it.</summary>
    public static string RouteName(AgentRoute route) => route == AgentRoute.Gateway ? "gateway" : "direct";
}
