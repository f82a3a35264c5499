using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Admin;
using Tcm.NotificationServer.AdminConsole;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Certificates;
using Tcm.NotificationServer.Channel;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Diagnostics;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.SiteServers;
using Tcm.NotificationServer.Store;
using Tcm.NotificationServer.TaskServers;
using Tcm.Protocol;

namespace Tcm.NotificationServer;

/// <summary>Adds the Notification Server to a <see cref="WebApplication"/>: the same code runs in <c>tcm ns</c>, in the lab and in tests.</summary>
public static class NotificationServerExtensions
{
    /// <summary>
    /// Registers the Notification Server's services and options (section <c>NotificationServer</c>, then
    /// <paramref name="configure"/>; validated at start), and configures Kestrel to listen on
    /// <see cref="NotificationServerOptions.ListenAddress"/>:<see cref="NotificationServerOptions.Port"/> with HTTPS
    /// (a server certificate signed by the server's CA), HTTP/1.1 and HTTP/2, and optional client certificates, which the
    /// server validates itself against its CA.
    /// </summary>
    public static WebApplicationBuilder AddNotificationServer(this WebApplicationBuilder builder, Action<NotificationServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<NotificationServerOptions>().Bind(builder.Configuration.GetSection(NotificationServerOptions.SectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<NotificationServerOptions>, NotificationServerOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);

        services.AddSingleton<NsMetrics>();
        services.AddSingleton(sp => CertificateAuthority.LoadOrCreate(
            DataDirectory(sp), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<CertificateAuthority>>()));
        services.AddSingleton(sp => new TcmStore(DataDirectory(sp), sp.GetRequiredService<ILogger<TcmStore>>()));
        services.AddSingleton<AgentDirectory>();
        services.AddSingleton<ActionLedger>();
        services.AddSingleton<ServerAddresses>();
        services.AddSingleton<PolicyService>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<DeliveryService>();
        services.AddSingleton<AgentApi>();
        services.AddSingleton<AgentAuthenticator>();
        services.AddSingleton<ChannelServices>();
        services.AddSingleton<PolicyDistributor>();
        services.AddSingleton<AgentViews>();
        services.AddSingleton<AdminKeyFilter>();
        services.AddTcmConsole();
        services.AddSiteServers();
        services.AddTaskServerSupport();
        services.AddSingleton(sp => new NotificationServerInfo(
            sp.GetRequiredService<ServerAddresses>(),
            sp.GetRequiredService<CertificateAuthority>(),
            sp.GetRequiredService<AgentDirectory>(),
            sp.GetRequiredService<PolicyService>(),
            sp.GetRequiredService<TimeProvider>(),
            NotificationServerInfo.LoadOrCreateAdminKey(DataDirectory(sp), sp.GetRequiredService<IOptions<NotificationServerOptions>>().Value.AdminApiKey)));
        services.AddHostedService<ChannelHousekeeping>();
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store");
        services.AddOpenApi();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ProtocolJsonContext.Default));

        builder.WebHost.ConfigureKestrel((_, kestrel) => ConfigureKestrel(kestrel));
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
        var options = app.Services.GetRequiredService<IOptions<NotificationServerOptions>>().Value;
        _ = app.Services.GetRequiredService<NotificationServerInfo>();

        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = options.KeepAliveInterval, KeepAliveTimeout = options.KeepAliveTimeout });
        app.MapHealthChecks(TcmPaths.Health);
        app.MapAgentEndpoints();
        app.MapChannel();
        app.MapAdminApi().MapProcessDiagnostics();
        app.MapTcmConsole();
        app.MapSiteServers();
        app.MapTaskServerSupport();
        app.MapOpenApi().AddEndpointFilter<IEndpointConventionBuilder, AdminKeyFilter>();
        return app;
    }

    private static string DataDirectory(IServiceProvider services)
    {
        var path = Path.GetFullPath(services.GetRequiredService<IOptions<NotificationServerOptions>>().Value.DataDirectory);
        Directory.CreateDirectory(path);
        return path;
    }

    private static void ConfigureKestrel(KestrelServerOptions kestrel)
    {
        var services = kestrel.ApplicationServices;
        var options = services.GetRequiredService<IOptions<NotificationServerOptions>>().Value;
        var authority = services.GetRequiredService<CertificateAuthority>();
        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        if (IPAddress.TryParse(options.ListenAddress, out var listen) && !listen.Equals(IPAddress.Any) && !listen.Equals(IPAddress.IPv6Any))
        {
            addresses.Add(listen);
        }

        // why: a CEM gateway multiplexes many agents' channels over a few HTTP/2 connections (Kestrel's default is 100 streams each).
        kestrel.Limits.Http2.MaxStreamsPerConnection = 5_000;
        var certificate = authority.IssueServerCertificate(["localhost", Environment.MachineName, options.PublicHostName], addresses);
        void Https(ListenOptions listenOptions)
        {
            listenOptions.Protocols = HttpProtocols.Http1AndHttp2;
            listenOptions.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = certificate,
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                // why: the server checks the chain itself (cached per certificate) and answers 401 with a reason, instead of failing the handshake.
                ClientCertificateValidation = static (_, _, _) => true,
            });
        }

        switch (options.ListenAddress)
        {
            case "*":
                kestrel.ListenAnyIP(options.Port, Https);
                break;
            case "localhost":
                kestrel.ListenLocalhost(options.Port, Https);
                break;
            default:
                kestrel.Listen(IPAddress.Parse(options.ListenAddress), options.Port, Https);
                break;
        }
    }
}
