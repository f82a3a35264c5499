using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.Hosting.Admin;
using Tcm.Hosting.Data;
using Tcm.Hosting.Diagnostics;
using Tcm.Protocol;
using Tcm.TaskServer.Agents;
using Tcm.TaskServer.Channel;
using Tcm.TaskServer.Diagnostics;
using Tcm.TaskServer.Identity;
using Tcm.TaskServer.Store;
using NsLink = Tcm.TaskServer.NotificationServerLink.NotificationServerLink;

namespace Tcm.TaskServer;

/// <summary>Adds the Task Server to a <see cref="WebApplication"/>: the same code runs in <c>tcm ts</c>, in the lab and in tests.</summary>
public static class TaskServerExtensions
{
    /// <summary>
    /// Registers the Task Server's services and options (section <c>TaskServer</c>, then <paramref name="configure"/>; validated at start),
    /// and configures Kestrel: HTTPS on <see cref="TcmServerOptions.Port"/> (and <see cref="TaskServerOptions.SecondPort"/>) with the
    /// site-server certificate from the NS, HTTP/1.1 and HTTP/2, client certificates validated by the Task Server against the NS CA.
    /// </summary>
    public static WebApplicationBuilder AddTaskServer(this WebApplicationBuilder builder, Action<TaskServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var server = builder.AddTcmChannelServer<TaskServerOptions, TaskServerOptionsValidator, TsMetrics>(TaskServerOptions.SectionName, "Task Server", configure)
            .ConfigureListeners(static (_, options, listeners) =>
            {
                if (options.SecondPort is { } second)
                {
                    listeners.MorePorts.Add(second);
                }
            })
            .AddSiteServerRegistration(
                static (sp, options, ct) => TaskServerIdentity.LoadOrRegisterAsync(options, sp.GetRequiredService<DataFolder>().Path,
                    sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TaskServerIdentity>>(), ct),
                static identity => identity.Certificate)
            .AddHostedServiceAfterRegistration<NsLink>()
            // Its channel services reach the identity, which exists only once registration has run.
            .AddHostedServiceAfterRegistration<TsChannelHousekeeping>()
            .AddStoreHealthCheck<TsStore>(static store => store.IsOpen, static store => store.Path);
        var services = server.Services;
        services.AddSingleton(sp => new TsStore(sp.GetRequiredService<DataFolder>().Path, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TsStore>>()));
        services.AddSingleton<NsLink>();
        services.AddTsAgentEndpoints().AddTsChannel();
        services.AddSingleton(sp => new TaskServerInfo(
            sp.GetRequiredService<ServerAddresses>(), sp.GetRequiredService<TaskServerIdentity>(), sp.GetRequiredService<TaskDelivery>(), sp.GetRequiredService<NsLink>()));
        return builder;
    }

    /// <summary>
    /// Maps the Task Server: WebSockets, the Client Task Agent channel and HTTP endpoints, <c>/healthz</c>, and behind the admin
    /// key <c>/metrics</c> and <c>GET /tcm/admin/diagnostics/process</c> (the NS's process diagnostics). Its identity is
    /// loaded when the application starts, registering with the NS on first run, so a missing token or an unreachable NS fails
    /// <c>app.StartAsync()</c> with a clear message.
    /// </summary>
    public static WebApplication MapTaskServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapTcmChannelServerDefaults<TaskServerOptions>();
        app.MapTsAgentEndpoints();
        app.MapTsChannel();
        app.MapGroup(TcmPaths.Admin).AddEndpointFilter<AdminKeyFilter>().MapProcessDiagnostics();
        return app;
    }
}
