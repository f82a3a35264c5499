using System.Security.Cryptography.X509Certificates;
using Tcm.Lab.Admin;
using Tcm.LoadTests.TcmVariant.Server;

namespace Tcm.LoadTests.TcmVariant;

/// <summary>Creates TCM targets, and the shared Notification Server of a sharded run.</summary>
internal sealed class TcmTargetFactory : ILoadTargetFactory
{
    public string Variant => "tcm";

    public string? UnavailableReason => TcmHostProcess.UnavailableReason();

    public IReadOnlyList<AgentRoute> Routes { get; } = [AgentRoute.Direct, AgentRoute.Gateway];

    public bool HasDeployments => true;

    public ILoadTarget Create(TargetSettings settings) => new TcmTarget(settings);

    public async Task<SharedServer> StartSharedAsync(TargetSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Target != "lab")
        {
            return SharedServer.Attach(settings);
        }

        var folder = Directory.CreateTempSubdirectory("tcm-load-ns-shared-").FullName;
        var adminKey = StartedNotificationServer.NewAdminKey();
        var ns = await StartedNotificationServer.StartAsync(folder, adminKey, settings.Log, cancellationToken).ConfigureAwait(false);
        SiteServers? siteServers = null;
        try
        {
            using var ca = X509Certificate2.CreateFromPem(ns.CaPem);
            using var admin = new AdminClient(ns.Address, adminKey, ca);
            var gatewayKey = StartedNotificationServer.NewAdminKey();
            siteServers = await SiteServers.StartAsync(admin, ns.Package, ns.Address, folder, settings, gatewayKey, cancellationToken).ConfigureAwait(false);
            Environment.SetEnvironmentVariable(TcmTarget.GatewayAdminKeyVariable, siteServers.Gateway is null ? null : gatewayKey);
            Environment.SetEnvironmentVariable(TcmTarget.TaskServerProcessVariable, siteServers.TaskServer?.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        catch
        {
            if (siteServers is not null)
            {
                await siteServers.DisposeAsync().ConfigureAwait(false);
            }

            await ns.Process.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        // The shard processes inherit this process's environment: that is how they get the admin keys.
        Environment.SetEnvironmentVariable(TcmTarget.AdminKeyVariable, adminKey);
        return new SharedServer(["--target", ns.Address.ToString().TrimEnd('/'), "--ca", ns.CaPemPath], new SharedLifetime(ns.Process, siteServers, folder));
    }

    private sealed class SharedLifetime(TcmHostProcess process, SiteServers siteServers, string folder) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await siteServers.DisposeAsync().ConfigureAwait(false);
            await process.DisposeAsync().ConfigureAwait(false);
            TempFolder.TryDelete(folder);
        }
    }
}
