using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
    /// and configures Kestrel: HTTPS on <see cref="TaskServerOptions.Port"/> (and <see cref="TaskServerOptions.SecondPort"/>) with the
    /// site-server certificate from the NS, HTTP/1.1 and HTTP/2, client certificates validated by the Task Server against the NS CA.
    /// </summary>
    public static WebApplicationBuilder AddTaskServer(this WebApplicationBuilder builder, Action<TaskServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<TaskServerOptions>().Bind(builder.Configuration.GetSection(TaskServerOptions.SectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations().Validate(o => Uri.TryCreate(o.NotificationServerUrl, UriKind.Absolute, out var u) && u.Scheme == Uri.UriSchemeHttps,
            "TaskServer:NotificationServerUrl must be the NS's https:// URL").ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<TsMetrics>();
        services.AddSingleton(sp => new TsStore(DataDirectory(sp)));
        services.AddSingleton(sp => TaskServerIdentity.LoadOrRegisterAsync(
            sp.GetRequiredService<IOptions<TaskServerOptions>>().Value, DataDirectory(sp), sp.GetRequiredService<ILogger<TaskServerIdentity>>(), CancellationToken.None)
            .GetAwaiter().GetResult());
        services.AddSingleton<TaskServerAddresses>();
        services.AddSingleton<AgentIdentityResolver>();
        services.AddSingleton<TaskDelivery>();
        services.AddSingleton<TsAgentApi>();
        services.AddSingleton<TsChannelServices>();
        services.AddHostedService<TsChannelHousekeeping>();
        services.AddSingleton<NsLink>();
        services.AddHostedService(sp => sp.GetRequiredService<NsLink>());
        services.AddSingleton(sp => new TaskServerInfo(
            sp.GetRequiredService<TaskServerAddresses>(), sp.GetRequiredService<TaskServerIdentity>(), sp.GetRequiredService<TaskDelivery>(), sp.GetRequiredService<NsLink>()));
        services.AddHealthChecks().AddCheck<TsStoreHealthCheck>("store");
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ProtocolJsonContext.Default));
        builder.WebHost.ConfigureKestrel((_, kestrel) => ConfigureKestrel(kestrel));
        return builder;
    }

    /// <summary>
    /// Maps the Task Server: WebSockets, the Client Task Agent channel and HTTP endpoints, and <c>/healthz</c>. Loads its identity now,
    /// registering with the NS on first run, so a missing token or an unreachable NS fails here with a clear message.
    /// </summary>
    public static WebApplication MapTaskServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<TaskServerOptions>>().Value;
        _ = app.Services.GetRequiredService<TaskServerIdentity>();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = options.KeepAliveInterval, KeepAliveTimeout = options.KeepAliveTimeout });
        app.MapHealthChecks(TcmPaths.Health);
        app.MapTsAgentEndpoints();
        app.MapTsChannel();
        return app;
    }

    private static string DataDirectory(IServiceProvider services)
    {
        var path = Path.GetFullPath(services.GetRequiredService<IOptions<TaskServerOptions>>().Value.DataDirectory);
        Directory.CreateDirectory(path);
        return path;
    }

    private static void ConfigureKestrel(KestrelServerOptions kestrel)
    {
        var services = kestrel.ApplicationServices;
        var options = services.GetRequiredService<IOptions<TaskServerOptions>>().Value;
        var certificate = services.GetRequiredService<TaskServerIdentity>().Certificate;
        void Https(ListenOptions listen)
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = certificate,
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                // why: the Task Server checks the chain itself (cached) and answers 401 with a reason, instead of failing the handshake.
                ClientCertificateValidation = static (_, _, _) => true,
            });
        }

        foreach (var port in options.SecondPort is { } second ? new[] { options.Port, second } : [options.Port])
        {
            switch (options.ListenAddress)
            {
                case "*":
                    kestrel.ListenAnyIP(port, Https);
                    break;
                case "localhost":
                    kestrel.ListenLocalhost(port, Https);
                    break;
                default:
                    kestrel.Listen(IPAddress.Parse(options.ListenAddress), port, Https);
                    break;
            }
        }
    }
}

/// <summary>Healthy while the store answers.</summary>
internal sealed class TsStoreHealthCheck(TsStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(store.IsOpen ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("the store does not answer"));
}
