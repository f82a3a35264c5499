using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tcm.Hosting.Admin;
using Tcm.Hosting.Data;
using Tcm.Hosting.Diagnostics;
using Tcm.Hosting.Listeners;
using Tcm.Hosting.Registration;
using Tcm.Hosting.Telemetry;
using Tcm.Protocol;

namespace Tcm.Hosting;

/// <summary>
/// The start of every TCM server (as eShop's <c>ServiceDefaults</c>): <c>builder.AddTcmServer&lt;TOptions&gt;(...)</c> binds and
/// validates the options at start and registers the clock, metrics, health checks, the data folder, the bound addresses and
/// the TLS certificate holder, and configures Kestrel's HTTPS listeners; the server adds its own services on top.
/// </summary>
public static class TcmServerHostingExtensions
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from <paramref name="sectionName"/>, then <paramref name="configure"/>, validated at
    /// start by <typeparamref name="TValidator"/>; registers <see cref="TimeProvider.System"/> (unless one is registered),
    /// <see cref="System.Diagnostics.Metrics.IMeterFactory"/>, health checks, <see cref="DataFolder"/>, <see cref="ServerAddresses"/> and
    /// <see cref="ServerCertificateHolder"/>; and has Kestrel listen with HTTPS as <see cref="TcmServerBuilder{TOptions}.ConfigureListeners"/> adds.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="sectionName">The configuration section of the options.</param>
    /// <param name="serverKind">What the server is, in messages, e.g. <c>Notification Server</c>.</param>
    /// <param name="configure">Changes after binding (tests, the lab), or null.</param>
    public static TcmServerBuilder<TOptions> AddTcmServer<TOptions, TValidator>(this WebApplicationBuilder builder, string sectionName, string serverKind, Action<TOptions>? configure)
        where TOptions : TcmServerOptions
        where TValidator : class, IValidateOptions<TOptions>
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<TOptions>().Bind(builder.Configuration.GetSection(sectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        builder.AddTcmTelemetry(ServiceName(sectionName));
        services.AddHealthChecks();
        services.AddSingleton(sp => new DataFolder(sp.GetRequiredService<IOptions<TOptions>>().Value.DataDirectory));
        services.AddSingleton(sp => new AdminKey(sp.GetRequiredService<DataFolder>().LoadOrCreateAdminKey(sp.GetRequiredService<IOptions<TOptions>>().Value.AdminApiKey)));
        services.TryAddSingleton<IAdminKeyRing>(sp => sp.GetRequiredService<AdminKey>());
        services.AddSingleton<AdminKeyFilter>();
        services.AddSingleton(sp => new ServerAddresses(sp.GetRequiredService<IServer>(), sp.GetRequiredService<IOptions<TOptions>>().Value, serverKind));
        services.AddSingleton<ServerCertificateHolder>();
        services.AddSingleton(sp => new ServerAdmission(sp.GetRequiredService<IOptions<TOptions>>().Value.Admission, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IMeterFactory>()));

        services.AddOptions<SocketTransportOptions>().Configure<IOptions<TOptions>>((transport, o) => transport.Backlog = o.Value.ListenBacklog);

        var server = new TcmServerBuilder<TOptions>(builder);
        builder.WebHost.ConfigureKestrel((_, kestrel) =>
        {
            var provider = kestrel.ApplicationServices;
            var settings = new TcmListenerSettings();
            var value = provider.GetRequiredService<IOptions<TOptions>>().Value;
            foreach (var listener in server.Listeners)
            {
                listener(provider, value, settings);
            }

            HttpsListeners.Configure(kestrel, value, provider.GetRequiredService<ServerCertificateHolder>(), settings, provider.GetRequiredService<ServerAdmission>());
        });
        return server;
    }

    /// <summary><c>tcm-</c> and the section in kebab case: <c>tcm-notification-server</c>, <c>tcm-task-server</c>, <c>tcm-gateway</c>.</summary>
    private static string ServiceName(string sectionName) =>
        "tcm-" + string.Concat(sectionName.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

/// <summary>What a server adds to <see cref="TcmServerHostingExtensions.AddTcmServer{TOptions, TValidator}"/>.</summary>
public sealed class TcmServerBuilder<TOptions>
    where TOptions : TcmServerOptions
{
    internal TcmServerBuilder(WebApplicationBuilder builder) => Builder = builder;

    /// <summary>The application builder.</summary>
    public WebApplicationBuilder Builder { get; }

    /// <summary>The services.</summary>
    public IServiceCollection Services => Builder.Services;

    internal List<Action<IServiceProvider, TOptions, TcmListenerSettings>> Listeners { get; } = [];

    /// <summary>Adds to the listener settings when Kestrel is configured (limits, more ports, connection middleware).</summary>
    public TcmServerBuilder<TOptions> ConfigureListeners(Action<IServiceProvider, TOptions, TcmListenerSettings> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Listeners.Add(configure);
        return this;
    }

    /// <summary>Adds the health check <c>store</c>: healthy while the server's <typeparamref name="TStore"/> answers.</summary>
    /// <param name="isOpen">Whether the store answers.</param>
    /// <param name="path">The store's file, in the check's description.</param>
    public TcmServerBuilder<TOptions> AddStoreHealthCheck<TStore>(Func<TStore, bool> isOpen, Func<TStore, string> path)
        where TStore : notnull
    {
        ArgumentNullException.ThrowIfNull(isOpen);
        ArgumentNullException.ThrowIfNull(path);
        Services.AddHealthChecks().Add(new HealthCheckRegistration("store", sp =>
        {
            var store = sp.GetRequiredService<TStore>();
            return new StoreHealthCheck(() => isOpen(store), path(store));
        }, failureStatus: null, tags: null));
        return this;
    }

    /// <summary>Serialises minimal API bodies with the protocol's source-generated JSON first (agent and admin contracts).</summary>
    public TcmServerBuilder<TOptions> AddProtocolJson()
    {
        Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ProtocolJsonContext.Default));
        return this;
    }

    /// <summary>
    /// Obtains the server's site-server identity before Kestrel starts (<see cref="IHostedLifecycleService.StartingAsync"/>):
    /// <paramref name="loadOrRegister"/> loads it from the data folder or registers with the Notification Server, and
    /// <paramref name="serverCertificate"/> names the certificate the listeners serve. <typeparamref name="TIdentity"/> is then
    /// resolvable, from the start of the application on; hosted services that need it are added with
    /// <see cref="AddHostedServiceAfterRegistration{TService}"/>.
    /// </summary>
    public TcmServerBuilder<TOptions> AddSiteServerRegistration<TIdentity>(
        Func<IServiceProvider, TOptions, CancellationToken, Task<TIdentity>> loadOrRegister, Func<TIdentity, System.Security.Cryptography.X509Certificates.X509Certificate2> serverCertificate)
        where TIdentity : class
    {
        ArgumentNullException.ThrowIfNull(loadOrRegister);
        ArgumentNullException.ThrowIfNull(serverCertificate);
        Services.AddSingleton(sp => new SiteServerRegistration<TIdentity>(
            ct => loadOrRegister(sp, sp.GetRequiredService<IOptions<TOptions>>().Value, ct), serverCertificate, sp.GetRequiredService<ServerCertificateHolder>()));
        Services.AddHostedService(sp => sp.GetRequiredService<SiteServerRegistration<TIdentity>>());
        Services.AddSingleton(sp => sp.GetRequiredService<SiteServerRegistration<TIdentity>>().Identity);
        return this;
    }

    /// <summary>
    /// Adds a hosted service that is created when it starts, after every <see cref="IHostedLifecycleService.StartingAsync"/> ran,
    /// so it may depend on what registration obtained.
    /// </summary>
    public TcmServerBuilder<TOptions> AddHostedServiceAfterRegistration<TService>()
        where TService : class, IHostedService
    {
        Services.AddHostedService(sp => new DeferredHostedService<TService>(sp));
        return this;
    }
}
