using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.Gateway.Certificates;
using Tcm.Gateway.Diagnostics;
using Tcm.Gateway.Identity;
using Tcm.Gateway.Relay;
using Tcm.Protocol;

namespace Tcm.Gateway;

/// <summary>Adds the CEM Internet Gateway to a <see cref="WebApplication"/>: the same code runs in <c>tcm gateway</c>, in the lab and in tests.</summary>
public static class GatewayExtensions
{
    /// <summary>
    /// Registers the gateway's services and options (section <c>Gateway</c>, then <paramref name="configure"/>; validated at
    /// start) and configures Kestrel: one TLS listener on <see cref="GatewayOptions.ListenAddress"/>:<see cref="GatewayOptions.Port"/>,
    /// HTTP/1.1 and HTTP/2, the gateway's site-server certificate, client certificates requested and checked by the relay
    /// (so a refusal is an answer with a reason, not a failed handshake).
    /// </summary>
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder, Action<GatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<GatewayOptions>().Bind(builder.Configuration.GetSection(GatewayOptions.SectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            // why: Kestrel needs the certificate synchronously while it configures; registration happens once, at first start.
            return GatewayIdentity.LoadOrRegisterAsync(settings, sp.GetRequiredService<ILogger<GatewayIdentity>>(), CancellationToken.None).GetAwaiter().GetResult();
        });
        services.AddSingleton(sp => new CertificateApprovals(DataDirectory(sp), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<CertificateApprovals>>()));
        services.AddSingleton<AgentCertificateValidator>();
        services.AddSingleton<BackendRegistry>();
        services.AddSingleton<TunnelRegistry>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<RelayServices>();
        services.AddSingleton<StatusBuilder>();
        services.AddSingleton(sp => new GatewayStartTime(sp.GetRequiredService<TimeProvider>().GetUtcNow()));
        services.AddSingleton<AdminKeyFilter>();
        services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return new GatewayInfo(sp.GetRequiredService<IServer>(), sp.GetRequiredService<GatewayIdentity>(), sp.GetRequiredService<BackendRegistry>(),
                settings.Name, GatewayInfo.LoadOrCreateAdminKey(DataDirectory(sp), settings.AdminApiKey));
        });
        services.AddHostedService<GatewayHeartbeat>();
        services.AddHealthChecks();

        builder.WebHost.ConfigureKestrel((_, kestrel) => ConfigureKestrel(kestrel));
        return builder;
    }

    /// <summary>
    /// Maps the relay (<c>/relay/{host}:{port}/...</c>), the gateway's status endpoints and certificate approvals (admin key),
    /// <c>/healthz</c>, and a refusal for everything else. Loads (or obtains) the gateway's identity now, so a missing
    /// certificate or token fails here with a clear message.
    /// </summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        _ = app.Services.GetRequiredService<GatewayInfo>();
        app.MapHealthChecks(TcmPaths.Health);
        app.MapGatewayEndpoints();
        // why: Map, not MapGet: HTTP/2 WebSockets arrive as extended CONNECT, and every method is relayed.
        app.Map(GatewayPaths.Relay + "/{**target}", RelayEndpoint.HandleAsync).ExcludeFromDescription();
        app.MapFallback("{**path}", RelayEndpoint.HandleAsync).ExcludeFromDescription();
        return app;
    }

    private static string DataDirectory(IServiceProvider services)
    {
        var path = Path.GetFullPath(services.GetRequiredService<IOptions<GatewayOptions>>().Value.DataDirectory);
        Directory.CreateDirectory(path);
        return path;
    }

    private static void ConfigureKestrel(KestrelServerOptions kestrel)
    {
        var services = kestrel.ApplicationServices;
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var identity = services.GetRequiredService<GatewayIdentity>();
        var metrics = services.GetRequiredService<GatewayMetrics>();
        kestrel.AddServerHeader = false;
        kestrel.Limits.KeepAliveTimeout = options.KeepAliveTimeout;
        kestrel.Limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerAgentConnection;
        if (options.Http2KeepAlivePingDelay > TimeSpan.Zero)
        {
            kestrel.Limits.Http2.KeepAlivePingDelay = options.Http2KeepAlivePingDelay;
            kestrel.Limits.Http2.KeepAlivePingTimeout = options.Http2KeepAlivePingTimeout;
        }

        void Listener(ListenOptions listen)
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            // Before TLS: a connection that never reaches the inner middleware failed its handshake.
            listen.Use(next => async connection =>
            {
                try
                {
                    await next(connection).ConfigureAwait(false);
                }
                finally
                {
                    if (connection.Features.Get<TlsEstablished>() is null)
                    {
                        metrics.HandshakeFailed();
                    }
                }
            });
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = identity.Primary.Certificate,
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                // why: the relay checks the certificate itself (cached per thumbprint) and answers with a reason, instead of failing the handshake.
                ClientCertificateValidation = static (_, _, _) => true,
                HandshakeTimeout = TimeSpan.FromSeconds(10),
            });
            // After TLS: an agent connection.
            listen.Use(next => async connection =>
            {
                connection.Features.Set(TlsEstablished.Instance);
                metrics.Connected();
                try
                {
                    await next(connection).ConfigureAwait(false);
                }
                finally
                {
                    metrics.Disconnected();
                }
            });
        }

        switch (options.ListenAddress)
        {
            case "*":
                kestrel.ListenAnyIP(options.Port, Listener);
                break;
            case "localhost":
                kestrel.ListenLocalhost(options.Port, Listener);
                break;
            default:
                kestrel.Listen(IPAddress.Parse(options.ListenAddress), options.Port, Listener);
                break;
        }
    }

    /// <summary>Marks a connection whose TLS handshake completed.</summary>
    private sealed class TlsEstablished
    {
        public static readonly TlsEstablished Instance = new();
    }
}
