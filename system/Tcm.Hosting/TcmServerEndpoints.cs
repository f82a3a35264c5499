using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tcm.Hosting.Listeners;
using Tcm.Hosting.Telemetry;
using Tcm.Protocol;

namespace Tcm.Hosting;

/// <summary>The endpoints and middleware every TCM server maps the same way (as eShop's <c>MapDefaultEndpoints</c>).</summary>
public static class TcmServerEndpoints
{
    /// <summary>
    /// Maps <c>/healthz</c>; on a server that holds handshake places through the connect, gives a connection's place back when
    /// its first request ends (<see cref="ConnectAdmission"/>); with <paramref name="keepAliveInterval"/>, also accepts WebSockets (the agents' channels), listening under
    /// each channel for its agent's keep-alive (<see cref="Channels.ChannelHearing"/>), and pinging a channel whose agent announced
    /// no keep-alive of its own at that interval (zero: no pings), aborting it when the pong does not come within
    /// <paramref name="keepAliveTimeout"/>.
    /// </summary>
    public static WebApplication MapTcmServerDefaults(this WebApplication app, TimeSpan? keepAliveInterval = null, TimeSpan? keepAliveTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Services.GetRequiredService<ServerAdmission>().HeldConnects is not null)
        {
            ConnectAdmissionMiddleware.Use(app);
        }

        if (keepAliveInterval is { } interval)
        {
            var options = new WebSocketOptions { KeepAliveInterval = interval };
            if (keepAliveTimeout is { } timeout)
            {
                options.KeepAliveTimeout = timeout;
            }

            Channels.ChannelHearing.Use(app);
            app.UseWebSockets(options);
        }

        app.MapHealthChecks(TcmPaths.Health);
        app.MapTcmMetrics();
        return app;
    }
}
