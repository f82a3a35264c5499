using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Reqnroll;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using Tcm.Lab;
using Tcm.Lab.Admin;
using Tcm.Lab.Network;
using Tcm.Lab.Packages;

namespace Tcm.Features.Drivers;

/// <summary>
/// One feature's lab: an <see cref="InProcessLab"/> (the real Notification Server on loopback, a fresh data
/// folder) and the <see cref="NetworkTopology"/> the virtual agents dial through. Lives in the <see cref="FeatureContext"/>,
/// which disposes it after the feature. Remembers the administrator's configuration at start, so each scenario can be
/// given the lab back as it found it (<see cref="LabDriver.ResetAsync"/>).
/// </summary>
internal sealed class LabHost(NetworkTopology topology, InProcessLab lab, string dataDirectory) : IAsyncDisposable
{
    /// <summary>What a feature's lab runs: TCM on, and the Task Servers and gateway as soon as the lab can run them.</summary>
    private static readonly LabOptions s_options = new()
    {
        Tcm = true,
        TaskServers = 2,
        Gateway = true,
        Proxy = new LabProxyOptions { Reach = EndpointClass.Corporate, Credentials = new System.Net.NetworkCredential("tcm-agent", "features-proxy") },
    };

    public NetworkTopology Topology { get; } = topology;

    public InProcessLab Lab { get; } = lab;

    public string DataDirectory { get; } = dataDirectory;

    public AdminClient Admin => Lab.Admin;

    public InstallPackage Package => Lab.Package;

    /// <summary>The CEM settings of the lab's gateway (its address as agents dial it), or null when the lab runs no gateway.</summary>
    public CemSettings? Cem => Lab.Cem;

    /// <summary>Whether the Notification Server runs (a scenario may stop it; the next one gets it back).</summary>
    public bool NotificationServerRunning { get; set; } = true;

    public IReadOnlyList<CommunicationProfile> BaselineProfiles { get; private set; } = [];

    public IReadOnlyList<TargetedAgentSettings> BaselineSettings { get; private set; } = [];

    /// <summary>Whether the lab runs a CEM gateway (an endpoint labelled <c>gateway</c> in the topology).</summary>
    public bool HasGateway => Topology.FindByLabel("gateway") is not null;

    /// <summary>How many Task Servers the lab runs (endpoints labelled <c>ts1</c>, <c>ts2</c>, ...).</summary>
    public int TaskServers => Topology.Endpoints.Count(e => e.Label.StartsWith("ts", StringComparison.OrdinalIgnoreCase) && e.Label.Length > 2 && char.IsDigit(e.Label[2]));

    public static async Task<LabHost> StartAsync(CancellationToken ct)
    {
        var topology = new NetworkTopology { ConnectTimeout = TimeSpan.FromSeconds(5) };
        var dataDirectory = Path.Combine(Path.GetTempPath(), "tcm-features", Guid.NewGuid().ToString("N")[..12]);
        ILoggerFactory serverLogs = NullLoggerFactory.Instance;
        var lab = await InProcessLab.StartAsync(s_options, topology, dataDirectory, keepData: false, serverLogs, ct);
        var host = new LabHost(topology, lab, dataDirectory);
        await lab.Admin.SetTcmAsync(true, ct);

        // The lab hands every agent the gateway's CEM settings through the Default profile; a scenario says per machine
        // whether it has valid, invalid or no CEM settings, so the features' lab leaves them to each agent's install package
        // (the agent uses the policy's CEM settings, else its package's).
        var profiles = await lab.Admin.GetProfilesAsync(ct);
        foreach (var profile in profiles.Where(p => p.Cem is not null))
        {
            await lab.Admin.SaveProfileAsync(profile with { Cem = null }, ct);
        }

        host.BaselineProfiles = await lab.Admin.GetProfilesAsync(ct);
        host.BaselineSettings = await lab.Admin.GetAgentSettingsAsync(ct);
        return host;
    }

    public ValueTask DisposeAsync() => Lab.DisposeAsync();
}

/// <summary>
/// The scenario's handle on the lab: starts the feature's lab on first use (one per feature, kept in the
/// <see cref="FeatureContext"/>), stops and starts its servers, says which capabilities it has (steps that need a missing
/// one are pending, naming it), and gives the next scenario the lab back as this one found it.
/// </summary>
internal sealed class LabDriver(FeatureContext feature)
{
    /// <summary>What a Notification Server is called in steps and by the simulator.</summary>
    public const string NotificationServer = "ns";

    /// <summary>The lab's proxy, as server operations name it.</summary>
    public const string Proxy = "proxy";

    // Reqnroll on xUnit 2 gives bindings no run-wide token; every wait here has its own deadline instead.
    private static CancellationToken Ct => CancellationToken.None;

    /// <summary>The feature's lab, started now if this is the feature's first scenario to need it.</summary>
    public async Task<LabHost> LabAsync()
    {
        if (feature.TryGetValue<LabHost>(out var host))
        {
            return host;
        }

        host = await LabHost.StartAsync(Ct);
        feature.Set(host);
        return host;
    }

    /// <summary>The lab if one was started for this feature; null otherwise.</summary>
    public LabHost? Started => feature.TryGetValue<LabHost>(out var host) ? host : null;

    public async Task<AdminClient> AdminAsync() => (await LabAsync()).Admin;

    /// <summary>The lab must run a CEM gateway (a <c>gateway</c> endpoint in the topology); in a lab without one the step is pending.</summary>
    public async Task RequireGatewayAsync()
    {
        if (!(await LabAsync()).HasGateway)
        {
            throw new PendingStepException(
                "Missing capability: the lab runs no CEM Internet Gateway (no 'gateway' endpoint in its network; LabOptions.Gateway starts one).");
        }
    }

    /// <summary>The lab must run at least <paramref name="count"/> Task Servers (<c>ts1</c>, <c>ts2</c>, ...); pending in a lab with fewer.</summary>
    public async Task RequireTaskServersAsync(int count)
    {
        var running = (await LabAsync()).TaskServers;
        if (running < count)
        {
            throw new PendingStepException(
                $"Missing capability: the lab runs {running} Task Server(s), this step needs {count} (LabOptions.TaskServers starts 'ts1', 'ts2', ...).");
        }
    }

    /// <summary>The packages this scenario published, by their name in the scenario.</summary>
    private readonly Dictionary<string, PackageReference> _packages = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Publishes a package of <paramref name="size"/> (<c>20MB</c>, <c>512KB</c>) on the lab's package server, one codebase per
    /// kind and site (a site's UNC and HTTP codebases on its own host, <c>pkg.{site}.tcm.lab</c>; no site: <c>pkg.tcm.lab</c>).
    /// </summary>
    public async Task PublishPackageAsync(string package, string size, IReadOnlyList<CodebaseSpec> codebases)
    {
        var host = await LabAsync();
        var id = $"{package}-{Guid.NewGuid():N}"[..(package.Length + 9)];
        _packages[package] = host.Lab.PublishPackage(id, Bytes(size), codebases);
    }

    /// <summary>A package this scenario published.</summary>
    public PackageReference Package(string package) =>
        _packages.TryGetValue(package, out var reference) ? reference : throw new InvalidOperationException($"the scenario published no package \"{package}\"");

    private static long Bytes(string size)
    {
        var match = System.Text.RegularExpressions.Regex.Match(size, @"^(\d+)\s*(B|KB|MB|GB)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        if (!match.Success)
        {
            throw new FormatException($"'{size}' is not a size such as 20MB or 512KB");
        }

        var shift = match.Groups[2].Value.ToUpperInvariant() switch { "KB" => 10, "MB" => 20, "GB" => 30, _ => 0 };
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) << shift;
    }

    /// <summary>The proxy settings that lead agents through the lab's proxy (with its credentials); pending when the lab has none.</summary>
    public async Task<ProxySettings> RequireProxyAsync() =>
        (await LabAsync()).Lab.Proxy ?? throw new PendingStepException("Missing capability: the lab runs no proxy (LabOptions.Proxy starts one).");

    /// <summary>The proxy's password changes: it refuses the agents' credentials from now on, and restarts, so every tunnel opens again.</summary>
    public async Task ChangeProxyPasswordAsync()
    {
        await RequireProxyAsync();
        var lab = (await LabAsync()).Lab;
        await lab.ControlAsync(ServerOperation.RefuseCredentials, Proxy, Ct);
        await lab.ControlAsync(ServerOperation.Kill, Proxy, Ct);
        await lab.ControlAsync(ServerOperation.Start, Proxy, Ct);
    }

    /// <summary>Stops a server gracefully (<paramref name="kill"/>: connections cut at once, nothing flushed).</summary>
    public async Task StopServerAsync(string server, bool kill)
    {
        var host = await LabAsync();
        RequireKnownServer(server, host);
        await host.Lab.ControlAsync(kill ? ServerOperation.Kill : ServerOperation.Stop, server, Ct);
        if (server == NotificationServer)
        {
            host.NotificationServerRunning = false;
        }
    }

    /// <summary>Starts a stopped server again on the same address and data folder.</summary>
    public async Task StartServerAsync(string server)
    {
        var host = await LabAsync();
        RequireKnownServer(server, host);
        await host.Lab.ControlAsync(ServerOperation.Start, server, Ct);
        if (server == NotificationServer)
        {
            host.NotificationServerRunning = true;
        }
    }

    /// <summary>
    /// Gives the lab back as the scenario found it: the Notification Server running, TCM communication on, the profiles and
    /// targeted agent settings the lab started with restored, and any the scenario added made to target nobody (the
    /// admin client cannot delete them). Agents are stopped by the <see cref="FleetDriver"/> itself.
    /// </summary>
    public async Task ResetAsync(CancellationToken ct)
    {
        if (Started is not { } host)
        {
            return;
        }

        if (!host.NotificationServerRunning)
        {
            await host.Lab.ControlAsync(ServerOperation.Start, NotificationServer, ct);
            host.NotificationServerRunning = true;
        }

        if (host.Lab.Proxy is not null)
        {
            await host.Lab.ControlAsync(ServerOperation.Start, Proxy, ct);
            await host.Lab.ControlAsync(ServerOperation.AcceptCredentials, Proxy, ct);
        }

        var admin = host.Admin;
        await admin.SetTcmAsync(true, ct);
        foreach (var profile in await admin.GetProfilesAsync(ct))
        {
            var baseline = host.BaselineProfiles.FirstOrDefault(p => p.Id == profile.Id);
            var wanted = baseline ?? profile with { Targets = Nobody };
            if (!Same(wanted, profile, ProtocolJsonContext.Default.CommunicationProfile))
            {
                await admin.SaveProfileAsync(wanted, ct);
            }
        }

        foreach (var settings in await admin.GetAgentSettingsAsync(ct))
        {
            var baseline = host.BaselineSettings.FirstOrDefault(s => s.Id == settings.Id);
            var wanted = baseline ?? settings with { Targets = Nobody };
            if (!Same(wanted, settings, ProtocolJsonContext.Default.TargetedAgentSettings))
            {
                await admin.SaveAgentSettingsAsync(wanted, ct);
            }
        }
    }

    /// <summary>Targets that match no agent: how the reset retires what a scenario added.</summary>
    public static Targets Nobody => new() { All = false, Agents = [], Rules = [] };

    /// <summary>Equal as the admin API would store them (records holding lists compare those by reference).</summary>
    private static bool Same<T>(T a, T b, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        System.Text.Json.JsonSerializer.Serialize(a, type) == System.Text.Json.JsonSerializer.Serialize(b, type);

    private static void RequireKnownServer(string server, LabHost host)
    {
        if (server == "gateway" && !host.HasGateway)
        {
            throw new PendingStepException("Missing capability: the lab runs no CEM Internet Gateway, so it cannot be stopped or started (LabOptions.Gateway starts one).");
        }

        if (server.StartsWith("ts", StringComparison.Ordinal) && host.Topology.FindByLabel(server) is null)
        {
            throw new PendingStepException($"Missing capability: the lab runs no Task Server '{server}' (LabOptions.TaskServers starts them).");
        }
    }
}
