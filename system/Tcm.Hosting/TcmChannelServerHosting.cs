using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tcm.Hosting.Diagnostics;
using Tcm.Hosting.Listeners;

namespace Tcm.Hosting;

/// <summary>
/// The start of a server that holds agents' persistent channels (the Notification Server and the Task Server), on top of
/// <see cref="TcmServerHostingExtensions.AddTcmServer{TOptions, TValidator}"/> and <see cref="TcmServerEndpoints.MapTcmServerDefaults"/>:
/// what both add the same way, so neither repeats it.
/// </summary>
public static class TcmChannelServerHosting
{
    /// <summary>
    /// <see cref="TcmServerHostingExtensions.AddTcmServer{TOptions, TValidator}"/>, and: the server's metrics
    /// <typeparamref name="TMetrics"/> (also its <see cref="IChannelFigures"/>), failed TLS handshakes counted on them, a CEM
    /// gateway's multiplexing allowed (<see cref="TcmListenerSettings.AllowGatewayMultiplexing"/>: a gateway relays many agents'
    /// channels to a channel server on few HTTP/2 connections), and the protocol's JSON for minimal API bodies.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="sectionName">The configuration section of the options.</param>
    /// <param name="serverKind">What the server is, in messages, e.g. <c>Task Server</c>.</param>
    /// <param name="configure">Changes after binding (tests, the lab), or null.</param>
    public static TcmServerBuilder<TOptions> AddTcmChannelServer<TOptions, TValidator, TMetrics>(this WebApplicationBuilder builder, string sectionName, string serverKind, Action<TOptions>? configure)
        where TOptions : TcmChannelServerOptions
        where TValidator : class, IValidateOptions<TOptions>
        where TMetrics : ChannelServerMeter
    {
        var server = builder.AddTcmServer<TOptions, TValidator>(sectionName, serverKind, configure)
            .ConfigureListeners(static (sp, _, listeners) =>
            {
                listeners.CountHandshakes(sp.GetRequiredService<TMetrics>().HandshakeFailed);
                listeners.AllowGatewayMultiplexing();
            })
            .AddProtocolJson();
        server.Services.AddSingleton<TMetrics>();
        server.Services.AddSingleton<IChannelFigures>(static sp => sp.GetRequiredService<TMetrics>());
        return server;
    }

    /// <summary>
    /// <see cref="TcmServerEndpoints.MapTcmServerDefaults"/> with WebSockets accepted for the channels, keeping them alive as
    /// <typeparamref name="TOptions"/> say (<see cref="TcmChannelServerOptions.KeepAliveInterval"/>, <see cref="TcmChannelServerOptions.KeepAliveTimeout"/>).
    /// </summary>
    public static WebApplication MapTcmChannelServerDefaults<TOptions>(this WebApplication app)
        where TOptions : TcmChannelServerOptions
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<TOptions>>().Value;
        return app.MapTcmServerDefaults(options.KeepAliveInterval, options.KeepAliveTimeout);
    }
}
