using Microsoft.AspNetCore.Builder;

namespace Tcm.Testing;

/// <summary>How the test hosts start and stop their server's application: one way for the Notification Server, the Task Server and the gateway.</summary>
internal static class ServerApps
{
    /// <summary>A token already cancelled: a stop with it aborts open connections at once, as when the process dies.</summary>
    public static CancellationToken Now => new(canceled: true);

    /// <summary>
    /// Builds <paramref name="builder"/>, maps the server's endpoints with <paramref name="map"/> and starts it. An application that
    /// fails to start is disposed (its port, files and services released) before the error goes on to the test.
    /// </summary>
    public static async Task<WebApplication> StartAsync(WebApplicationBuilder builder, Action<WebApplication> map, CancellationToken cancellationToken = default)
    {
        var app = builder.Build();
        try
        {
            map(app);
            await app.StartAsync(cancellationToken);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops and disposes <paramref name="app"/> when there is one (gracefully unless <paramref name="cancellationToken"/> is cancelled).</summary>
    public static async Task StopAsync(WebApplication? app, CancellationToken cancellationToken = default)
    {
        if (app is not null)
        {
            await app.StopAsync(cancellationToken);
            await app.DisposeAsync();
        }
    }
}
