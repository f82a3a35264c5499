using System.Net;
using Microsoft.Extensions.Options;
using Tcm.Channels.Delivery;
using Tcm.Hosting.Admin;
using Tcm.Hosting.Data;
using Tcm.Hosting.Diagnostics;
using Tcm.Hosting.Listeners;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.ActionStreams;
using Tcm.NotificationServer.Admin;
using AdminKeyFilter = Tcm.NotificationServer.Admin.AdminKeyFilter;
using Tcm.NotificationServer.AdminConsole;
using Tcm.NotificationServer.AgentEndpoints;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Certificates;
using Tcm.NotificationServer.Channel;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Diagnostics;
using Tcm.NotificationServer.Gateways;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.SiteServerApi;
using Tcm.NotificationServer.SiteServers;
using Tcm.NotificationServer.Store;
using Tcm.NotificationServer.TaskServers;
using Tcm.NotificationServer.Waves;

namespace Tcm.NotificationServer;

/// <summary>Adds the Notification Server to a <see cref="WebApplication"/>: the same code runs in <c>tcm ns</c>, in the lab and in tests.</summary>
public static class NotificationServerExtensions
{
    /// <summary>
    /// Registers the Notification Server's services and options (section <c>NotificationServer</c>, then
    /// <paramref name="configure"/>; validated at start), and configures Kestrel to listen on
    /// <see cref="TcmServerOptions.ListenAddress"/>:<see cref="TcmServerOptions.Port"/> with HTTPS
    /// (a server certificate signed by the server's CA), HTTP/1.1 and HTTP/2, and optional client certificates, which the
    /// server validates itself against its CA.
    /// </summary>
    public static WebApplicationBuilder AddNotificationServer(this WebApplicationBuilder builder, Action<NotificationServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var server = builder.AddTcmChannelServer<NotificationServerOptions, NotificationServerOptionsValidator, NsMetrics>(NotificationServerOptions.SectionName, "Notification Server", configure)
            .ConfigureListeners(static (sp, options, listeners) =>
            {
                sp.GetRequiredService<ServerCertificateHolder>().Set(IssueServerCertificate(sp.GetRequiredService<CertificateAuthority>(), options));
            })
            .AddStoreHealthCheck<TcmStore>(static store => store.IsOpen, static store => store.Path);
        var services = server.Services;
        services.AddSingleton(sp => CertificateAuthority.LoadOrCreate(
            sp.GetRequiredService<DataFolder>().Path, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<CertificateAuthority>>()));
        services.AddSingleton(sp => new TcmStore(
            sp.GetRequiredService<DataFolder>().Path, sp.GetRequiredService<IOptions<NotificationServerOptions>>().Value.Store, sp.GetRequiredService<ILogger<TcmStore>>()));
        services.AddSingleton<AgentDirectory>();
        services.AddCluster();
        services.AddSingleton<ActionLedger>();
        services.AddSingleton<ActionExpiry>().AddHostedService(static sp => sp.GetRequiredService<ActionExpiry>());
        services.AddSingleton<ActionCancellation>();
        services.AddSingleton<PolicyService>();
        services.AddSingleton(sp =>
        {
            var metrics = sp.GetRequiredService<NsMetrics>();
            var store = sp.GetRequiredService<TcmStore>();
            var options = sp.GetRequiredService<IOptions<NotificationServerOptions>>().Value;

            // why: the window counts every push it writes, also those an acknowledgement or a hello lets out later in waves; one
            // channel's share stays within its send queue (MaxQueuedPerChannel), which also carries its other messages.
            var window = new PushWindow(options.MaxPushesInFlight, (agent, after, max) => store.GetPushesAfter(((AgentRecord)agent).Id, after, max),
                Math.Min(PushWindow.DefaultPerChannel, Math.Max(1, options.MaxQueuedPerChannel / 2)), metrics.PushesSent);
            metrics.ObserveQueuedWork(() => window.Waiting, () => window.InFlight);

            // why: results wait while a fan-out is being delivered (DeliveryBurst); the window exists once deliveries can start.
            store.Writer.HoldWhile(new DeliveryBurst(window, TimeProvider.System).IsOn, DeliveryBurst.MaxHold, store.AfterHeldWrites);
            return window;
        });
        services.AddSingleton<DeliveryJournal>();
        services.AddSingleton<DeliveryService>();
        services.AddWaves();
        services.AddAgentEndpoints().AddAdminApi().AddActionStreams().AddTcmConsole().AddSiteServers().AddTaskServerSupport().AddGatewayManagement().AddChannel();
        services.AddSingleton(sp => new NotificationServerInfo(sp.GetRequiredService<ServerAddresses>(), sp.GetRequiredService<CertificateAuthority>(),
            sp.GetRequiredService<AgentDirectory>(), sp.GetRequiredService<PolicyService>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Tcm.Hosting.Admin.AdminKey>()));
        return builder;
    }

    /// <summary>
    /// Maps the Notification Server: WebSockets, the agent endpoints and channel, the admin API (with its OpenAPI
    /// document at <c>/openapi/v1.json</c>, both behind the admin key) and <c>/healthz</c>. Creates or loads the data
    /// folder (database and CA) now, so a bad configuration fails here with a clear message.
    /// </summary>
    public static WebApplication MapNotificationServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapTcmChannelServerDefaults<NotificationServerOptions>();
        _ = app.Services.GetRequiredService<NotificationServerInfo>();
        app.Services.WireNodeChanges();

        app.MapAgentEndpoints();
        app.MapChannel();
        app.MapAdminApi().MapProcessDiagnostics().MapActionStreams();
        app.MapTcmConsole();
        app.MapSiteServers();
        app.MapTaskServerSupport();
        app.MapGatewayManagement();
        app.MapOpenApi().AddEndpointFilter<IEndpointConventionBuilder, AdminKeyFilter>();
        return app;
    }

    /// <summary>The server's TLS certificate, from its own CA: the public name, this machine, the loopback and listen addresses.</summary>
    private static System.Security.Cryptography.X509Certificates.X509Certificate2 IssueServerCertificate(CertificateAuthority authority, NotificationServerOptions options)
    {
        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        if (IPAddress.TryParse(options.ListenAddress, out var listen) && !listen.Equals(IPAddress.Any) && !listen.Equals(IPAddress.IPv6Any))
        {
            addresses.Add(listen);
        }

        return authority.IssueServerCertificate(["localhost", Environment.MachineName, options.PublicHostName], addresses);
    }
}
