namespace Tcm.LoadTests.Variants;

/// <summary>Wire protocol of the agents' channels.</summary>
internal enum ChannelProtocol
{
    /// <summary>HTTP/1.1 upgrade: one TCP connection per WebSocket.</summary>
    Http1,

    /// <summary>HTTP/2 extended CONNECT (RFC 8441): the agent's NS and TS channels share one TCP connection.</summary>
    Http2,
}

/// <summary>How agents reach the servers.</summary>
internal enum AgentRoute
{
    /// <summary>Agents call the Notification Server directly.</summary>
    Direct,

    /// <summary>Agents prefer CEM: every connection goes through the CEM Internet Gateway, which relays it to the server.</summary>
    Gateway,
}

/// <summary>Conventions of scenario names across variants and routes.</summary>
internal static class ScenarioNames
{
    /// <summary>Ends the name of a scenario run through the CEM gateway.</summary>
    public const string GatewaySuffix = "-gw";

    /// <summary>
    /// The baseline scenario a TCM scenario is compared with: the same name, direct (the baseline has no gateway) and without the
    /// Notification Server's deployment (<see cref="NsDeployment.ScenarioSuffix"/>: the bare server has no store).
    /// </summary>
    public static string BaselineOf(string scenario)
    {
        var deployment = scenario.LastIndexOf(NsDeployment.PostgresSuffix, StringComparison.OrdinalIgnoreCase);
        if (deployment > 0 && IsDeploymentSuffix(scenario[(deployment + NsDeployment.PostgresSuffix.Length)..]))
        {
            scenario = scenario[..deployment];
        }

        return scenario.EndsWith(GatewaySuffix, StringComparison.OrdinalIgnoreCase) ? scenario[..^GatewaySuffix.Length] : scenario;
    }

    // What may follow "-pg": nothing (one node) or "-{N}nodes".
    private static bool IsDeploymentSuffix(string rest) =>
        rest.Length == 0
        || (rest.StartsWith('-') && rest.EndsWith("nodes", StringComparison.OrdinalIgnoreCase) && rest.Length > 6 && rest[1..^5].All(char.IsAsciiDigit));
}

/// <summary>How a target is set up for one run.</summary>
internal sealed record TargetSettings
{
    public ChannelProtocol Protocol { get; init; } = ChannelProtocol.Http1;

    /// <summary>Direct, or through the CEM gateway (only the tcm variant has a gateway).</summary>
    public AgentRoute Route { get; init; } = AgentRoute.Direct;

    /// <summary>tcm: a Task Server beside the Notification Server; every agent then holds two channels and tasks go through it.</summary>
    public bool TaskServer { get; init; }

    /// <summary>tcm: the Notification Server's store and nodes (the baseline has neither).</summary>
    public NsDeployment Deployment { get; init; } = NsDeployment.Default;

    /// <summary><c>lab</c> (start the server here) or the URL of a running server.</summary>
    public string Target { get; init; } = "lab";

    /// <summary>In lab mode, run the server in its own process (honest memory figures, and twice the connections within the open-file limit).</summary>
    public bool ServerInOwnProcess { get; init; } = true;

    /// <summary>PEM file of the CA that signed the server's certificate (for a URL target); null trusts the system store.</summary>
    public string? CaCertificatePath { get; init; }

    /// <summary>This process's shard number (0-based) and the number of shards.</summary>
    public int Shard { get; init; }

    public int Shards { get; init; } = 1;

    /// <summary>Where diagnostics go.</summary>
    public TextWriter Log { get; init; } = TextWriter.Null;
}

/// <summary>Creates the targets of one variant.</summary>
internal interface ILoadTargetFactory
{
    /// <summary><c>baseline</c> or <c>tcm</c>.</summary>
    string Variant { get; }

    /// <summary>Null when the variant can run; otherwise why not.</summary>
    string? UnavailableReason { get; }

    /// <summary>The routes this variant can run (the baseline has no gateway).</summary>
    IReadOnlyList<AgentRoute> Routes { get; }

    /// <summary>Whether the variant runs once per <see cref="NsDeployment"/> asked for (tcm); the baseline has no store and runs once.</summary>
    bool HasDeployments => false;

    /// <summary>A target for one run.</summary>
    ILoadTarget Create(TargetSettings settings);

    /// <summary>
    /// Starts a server shared by several shard processes (with its gateway for <see cref="AgentRoute.Gateway"/>) and returns
    /// the arguments that point a shard at it (<c>--target URL --ca file</c>) and the servers' lifetime.
    /// </summary>
    Task<SharedServer> StartSharedAsync(TargetSettings settings, CancellationToken cancellationToken);
}

/// <summary>A server started for shards.</summary>
internal sealed record SharedServer(IReadOnlyList<string> ShardArguments, IAsyncDisposable Lifetime)
{
    /// <summary>The server of a <c>--target URL</c> run, which this process did not start: shards are pointed at it, nothing is stopped.</summary>
    public static SharedServer Attach(TargetSettings settings) => new(
        settings.CaCertificatePath is { } ca ? ["--target", settings.Target, "--ca", ca] : ["--target", settings.Target],
        new NothingToStop());

    private sealed class NothingToStop : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>The temporary folders of a run.</summary>
internal static class TempFolder
{
    /// <summary>Deletes <paramref name="path"/> with what is in it; a folder that cannot be deleted now is left (it is harmless).</summary>
    public static void TryDelete(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}

/// <summary>The variants this build knows.</summary>
internal static class VariantCatalog
{
    /// <summary>Every variant, baseline first.</summary>
    public static IReadOnlyList<ILoadTargetFactory> All { get; } = [new Baseline.BaselineTargetFactory(), new TcmVariant.TcmTargetFactory()];

    /// <summary>The factory of a variant, or null.</summary>
    public static ILoadTargetFactory? Find(string variant) =>
        All.FirstOrDefault(f => f.Variant.Equals(variant, StringComparison.OrdinalIgnoreCase));
}
