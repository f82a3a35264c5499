using Tcm.Lab.Admin;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.LoadTests.TcmVariant.Server;

/// <summary>The Task Server and gateway processes a run started (either may be null), and the install package agents use.</summary>
internal sealed record SiteServers(TcmHostProcess? TaskServer, TcmHostProcess? Gateway, InstallPackage Package) : IAsyncDisposable
{
    /// <summary>The name of the targeted agent settings that make agents prefer CEM in a gateway run.</summary>
    internal const string PreferCemSettingsName = "load test: prefer CEM";

    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync().ConfigureAwait(false);
        }

        if (TaskServer is not null)
        {
            await TaskServer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Starts what <paramref name="settings"/> asks beside the Notification Server at <paramref name="server"/> (data under
    /// <paramref name="dataFolder"/>): a Task Server (<c>tcm ts</c>, registered as a site server, accepting every agent of the
    /// run) and, for <see cref="AgentRoute.Gateway"/>, a CEM gateway in front of both with every agent preferring CEM.
    /// </summary>
    public static async Task<SiteServers> StartAsync(
        AdminClient admin, InstallPackage package, Uri server, string dataFolder, TargetSettings settings, string gatewayAdminKey, CancellationToken cancellationToken)
    {
        TcmHostProcess? taskServer = null;
        try
        {
            if (settings.TaskServer)
            {
                var created = await admin.CreateSiteServerAsync(new CreateSiteServerRequest { Name = "ts1", Kind = SiteServerKind.TaskServer }, cancellationToken).ConfigureAwait(false);
                taskServer = TcmHostProcess.TaskServer(
                    Path.Combine(dataFolder, "ts1"), server.ToString().TrimEnd('/'), Path.Combine(dataFolder, "ca.pem"), created.RegistrationToken, maxAgents: 1_000_000, settings.Log);
                await taskServer.StartAsync(0, cancellationToken).ConfigureAwait(false);
                await WaitForTaskServerAsync(admin, cancellationToken).ConfigureAwait(false);
            }

            if (settings.Route != AgentRoute.Gateway)
            {
                return new SiteServers(taskServer, null, package);
            }

            var (gateway, withCem) = await StartGatewayAsync(admin, package, dataFolder, gatewayAdminKey, taskServer is null ? null : $"localhost:{taskServer.Port}", settings.Log, cancellationToken).ConfigureAwait(false);
            return new SiteServers(taskServer, gateway, withCem);
        }
        catch
        {
            if (taskServer is not null)
            {
                await taskServer.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>Waits until the Notification Server lists the Task Server as registered with an address (it is then in every agent's policy).</summary>
    private static async Task WaitForTaskServerAsync(AdminClient admin, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
        while (true)
        {
            var servers = await admin.GetSiteServersAsync(cancellationToken).ConfigureAwait(false);
            if (servers.Any(s => s.Kind == SiteServerKind.TaskServer && s.Registered && s.Address is not null))
            {
                return;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new InvalidOperationException("The Task Server did not report its address to the Notification Server within 30 s.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Registers a CEM gateway with the server behind <paramref name="admin"/>, starts it in its own process (data under
    /// <paramref name="dataFolder"/>), puts its address into the Default profile and makes every agent prefer CEM; returns
    /// the process and the install package that now carries the CEM settings.
    /// </summary>
    private static async Task<(TcmHostProcess Process, InstallPackage Package)> StartGatewayAsync(
        AdminClient admin, InstallPackage package, string dataFolder, string gatewayAdminKey, string? taskServer, TextWriter log, CancellationToken cancellationToken)
    {
        var created = await admin.CreateSiteServerAsync(new CreateSiteServerRequest { Name = "gw-load", Kind = SiteServerKind.Gateway }, cancellationToken).ConfigureAwait(false);
        var notificationServer = new Uri(package.ServerUrl).Authority;
        var process = TcmHostProcess.Gateway(Path.Combine(dataFolder, "gateway"), gatewayAdminKey, notificationServer, created.RegistrationToken, taskServer, log);
        try
        {
            await process.StartAsync(0, cancellationToken).ConfigureAwait(false);
            var profiles = await admin.GetProfilesAsync(cancellationToken).ConfigureAwait(false);
            var profile = profiles.First(p => p.Name == "Default");
            await admin.SaveProfileAsync(profile with { Cem = new CemSettings { GatewayAddress = $"localhost:{process.Port}" } }, cancellationToken).ConfigureAwait(false);
            await admin.SaveAgentSettingsAsync(
                new TargetedAgentSettings { Name = PreferCemSettingsName, Priority = 1, Settings = new AgentSettings { PreferCem = true } },
                cancellationToken).ConfigureAwait(false);
            return (process, await admin.CreatePackageAsync(profile.Id, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
