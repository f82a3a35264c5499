using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// An HTTPS server that is not a TCM server: plain Kestrel on 127.0.0.1 with the given certificate and no endpoints, so every request
/// (a WebSocket upgrade included) gets Kestrel's own 404, with no <c>X-Tcm-Refusal</c>. What an agent finds when its profile names an
/// address where some other web server listens.
/// </summary>
internal sealed class ForeignHttpsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ForeignHttpsServer(WebApplication app, string hostAndPort)
    {
        _app = app;
        HostAndPort = hostAndPort;
    }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string HostAndPort { get; }

    public static async Task<ForeignHttpsServer> StartAsync(X509Certificate2 certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return new ForeignHttpsServer(app, $"127.0.0.1:{address.Port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
