using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Tcm.Gateway.Certificates;
using Tcm.Gateway.Diagnostics;
using Tcm.Gateway.Identity;
using Tcm.Gateway.KeepAlive;
using Tcm.Gateway.Management;
using Tcm.Gateway.Relay;
using Tcm.Hosting.Data;
using Tcm.Hosting.Listeners;
using Tcm.Protocol;

namespace Tcm.Gateway;

/// <summary>Adds the CEM Internet Gateway to a <see cref="WebApplication"/>: the same code runs in <c>tcm gateway</c>, in the lab and in tests.</summary>
public static class GatewayExtensions
{
    private const string KestrelMemoryPoolMeter = "Microsoft.AspNetCore.MemoryPool";

    /// <summary>
    /// Registers the gateway's services and options (section <c>Gateway</c>, then <paramref name="configure"/>; validated at
    /// start) and configures Kestrel: one TLS listener on <see cref="TcmServerOptions.ListenAddress"/>:<see cref="TcmServerOptions.Port"/>,
    /// HTTP/1.1 and HTTP/2, the gateway's site-server certificate, client certificates requested and checked by the relay
    /// (so a refusal is an answer with a reason, not a failed handshake).
    /// </summary>
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder, Action<GatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var server = builder.AddTcmServer<GatewayOptions, GatewayOptionsValidator>(GatewayOptions.SectionName, "gateway", configure)
            .ConfigureListeners(static (sp, options, listeners) => ConfigureListeners(options, sp.GetRequiredService<GatewayMetrics>(), listeners))
            .AddSiteServerRegistration(
                static (sp, options, ct) => GatewayIdentity.LoadOrRegisterAsync(options, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<GatewayIdentity>>(), ct),
                static identity => identity.Primary.Certificate)
            .AddHostedServiceAfterRegistration<GatewayShutdown>()
            .AddHostedServiceAfterRegistration<ManagementService>()
            .AddHostedServiceAfterRegistration<TunnelWatch>();
        // why: YARP logs every forwarded request at Information; the gateway's own log says what matters (refusals, relay ends).
        builder.Logging.AddFilter("Yarp.ReverseProxy.Forwarder", LogLevel.Warning);
        EmptyContext.Use(builder.Logging, builder.Configuration);
        // why: Kestrel's memory pool meter records every block rented and returned, and the exporters aggregate each one: at 4,000
        // idle agents that was 2% of the gateway's CPU in the profile (docs/benchmarks.md, issue 16), for a figure nobody reads here.
        builder.Services.ConfigureOpenTelemetryMeterProvider(static metrics => metrics.AddView(static instrument =>
            instrument.Meter.Name == KestrelMemoryPoolMeter ? MetricStreamConfiguration.Drop : null));
        var services = server.Services;
        services.AddOptions<SocketTransportOptions>().Configure<IOptions<GatewayOptions>>(static (transport, options) =>
            transport.UnsafePreferInlineScheduling = options.Value.InlineSocketScheduling);
        services.AddSingleton(sp => new CertificateApprovals(sp.GetRequiredService<DataFolder>().Path, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<CertificateApprovals>>()));
        services.AddSingleton<AgentCertificateValidator>();
        services.AddSingleton<BackendRegistry>();
        services.AddHttpForwarder();
        services.AddSingleton<RelayForwarder>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<RelayServices>();
        services.AddSingleton<StatusBuilder>();
        services.AddSingleton(sp => new GatewayStartTime(sp.GetRequiredService<TimeProvider>().GetUtcNow()));
        services.AddSingleton<AdminKeyFilter>();
        services.AddSingleton<GatewayShutdown>();
        services.AddSingleton<TunnelWatch>();
        services.AddSingleton<ManagementService>();
        services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return new GatewayInfo(sp.GetRequiredService<ServerAddresses>(), sp.GetRequiredService<GatewayIdentity>(), sp.GetRequiredService<BackendRegistry>(),
                settings.Name, sp.GetRequiredService<Tcm.Hosting.Admin.AdminKey>());
        });
        return builder;
    }

    /// <summary>
    /// Maps the relay (<c>/relay/{host}:{port}/...</c>), the gateway's status endpoints and certificate approvals (admin key),
    /// <c>/healthz</c>, and a refusal for everything else. The gateway's identity is loaded (or obtained) when the application
    /// starts, so a missing certificate or token fails <c>app.StartAsync()</c> with a clear message.
    /// </summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapTcmServerDefaults();
        app.MapGatewayEndpoints();
        // why: Map, not MapGet: HTTP/2 WebSockets arrive as extended CONNECT, and every method is relayed.
        app.Map(GatewayPaths.Relay + "/{**target}", RelayEndpoint.HandleAsync).ExcludeFromDescription();
        app.MapFallback("{**path}", RelayEndpoint.HandleAsync).ExcludeFromDescription();
        return app;
    }

    /// <summary>
    /// The gateway's part of the listener: its Kestrel limits, a count of connections around the handshake (failed, or an
    /// agent connection open until it closes), and the connection from its TLS handshake on run on an empty execution context
    /// (<see cref="EmptyContext"/>).
    /// </summary>
    private static void ConfigureListeners(GatewayOptions options, GatewayMetrics metrics, TcmListenerSettings listeners)
    {
        listeners.Kestrel = kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.KeepAliveTimeout = options.KeepAliveTimeout;
            kestrel.Limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerAgentConnection;
            GatewayKeepAlive.Apply(options, kestrel.Limits.Http2);
        };
        listeners.CountHandshakes(metrics.HandshakeFailed, metrics.Connected, metrics.Disconnected);
        var counting = listeners.BeforeTls;
        listeners.BeforeTls = listen =>
        {
            counting?.Invoke(listen);
            EmptyContext.Use(listen);
        };
    }
}
