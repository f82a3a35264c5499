using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// A Task-Server-like backend: TLS with a certificate from an NS's CA, HTTP/1.1 and HTTP/2, a WebSocket at
/// <see cref="ChannelPath"/> that first says what identity the gateway forwarded (<c>via</c>, the forwarded agent certificate's
/// subject or how many such headers came, the gateway's client certificate) and over which HTTP version, then echoes; and at
/// <see cref="SilentPath"/> a backend that never answers an opening.
/// </summary>
internal sealed class StubTaskServer(WebApplication app) : IAsyncDisposable
{
    public const string ChannelPath = "/tcm/ts/channel";

    /// <summary>Takes the request and never answers it (until the caller gives up).</summary>
    public const string SilentPath = "/tcm/ts/silent";

    public int Port => new Uri(app.Urls.First()).Port;

    public string Address => $"127.0.0.1:{Port}";

    public static async Task<StubTaskServer> StartAsync(NotificationServerHost ns)
    {
        var certificate = ns.Info.IssueServerCertificate(["localhost"], [IPAddress.Loopback]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate, ClientCertificateMode = ClientCertificateMode.AllowCertificate, ClientCertificateValidation = (_, _, _) => true });
        }));
        var app = builder.Build();
        app.UseWebSockets();
        app.Map(SilentPath, (HttpContext context) => Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted));
        app.Map(ChannelPath, async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            var via = context.Request.Headers[SiteServerPaths.ViaHeader].ToString();
            var forwarded = context.Request.Headers[SiteServerPaths.ForwardedAgentCertificateHeader];
            using var agent = forwarded.Count == 1 ? X509CertificateLoader.LoadCertificate(Convert.FromBase64String(forwarded.ToString())) : null;
            var gatewayCertificate = context.Connection.ClientCertificate?.Subject ?? "none";
            using var socket = await context.WebSockets.AcceptWebSocketAsync(ProtocolConstants.SubProtocol);
            var hello = $"via={via};forwarded={agent?.Subject ?? forwarded.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)};client={gatewayCertificate};protocol={context.Request.Protocol}";
            await socket.SendAsync(Encoding.UTF8.GetBytes(hello), WebSocketMessageType.Text, true, context.RequestAborted);
            var buffer = new byte[4096];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, context.RequestAborted);
            }
        });
        await app.StartAsync();
        return new StubTaskServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
