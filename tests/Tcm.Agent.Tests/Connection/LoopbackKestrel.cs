using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tcm.Agent.Tests.Connection;

/// <summary>Real Kestrel on 127.0.0.1 over TLS (a server certificate of the test CA) for the agent's connection tests.</summary>
internal static class LoopbackKestrel
{
    /// <summary>Starts <paramref name="handler"/> on a free port; <paramref name="beforeTls"/> adds connection middleware ahead of TLS.</summary>
    public static async Task<(WebApplication App, int Port)> StartAsync(X509Certificate2 ca, HttpProtocols protocols, RequestDelegate handler,
        Action<ListenOptions>? beforeTls = null, bool webSockets = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var certificate = TestCertificates.Issue(ca, "CN=localhost", clientAuth: false, serverAuth: true);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = protocols;
            beforeTls?.Invoke(listen);
            listen.UseHttps(certificate);
        }));
        var app = builder.Build();
        if (webSockets)
        {
            app.UseWebSockets();
        }

        app.Run(handler);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return (app, address.Port);
    }

    /// <summary>Stops and disposes a started server (nothing when it never started).</summary>
    public static async Task StopAsync(WebApplication? app)
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
