using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.NotificationServer.Certificates;
using Tcm.Protocol;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// A corporate package server with three codebases for one package: HTTPS (certificate from the NS's CA), HTTP, and "UNC" (the
/// agent's minimal TCM-UNC/1 line protocol over TCP: <c>READ share\path\n</c>, answered <c>OK {length}\n</c> + bytes).
/// </summary>
internal sealed class PackageServer : IAsyncDisposable
{
    public static readonly byte[] Content = Enumerable.Range(0, 256 * 1024).Select(i => (byte)(i * 31)).ToArray();
    private readonly WebApplication _app;
    private readonly TcpListener _unc;
    private readonly CancellationTokenSource _stop = new();

    private PackageServer(WebApplication app, TcpListener unc)
    {
        _app = app;
        _unc = unc;
        var ports = app.Urls.Select(u => new Uri(u)).ToList();
        HttpsPort = ports.Single(u => u.Scheme == "https").Port;
        HttpPort = ports.Single(u => u.Scheme == "http").Port;
        UncPort = ((IPEndPoint)unc.LocalEndpoint).Port;
        _ = ServeUncAsync();
    }

    public int HttpsPort { get; }
    public int HttpPort { get; }
    public int UncPort { get; }
    public string HttpsAddress => $"127.0.0.1:{HttpsPort}";

    public PackageReference Package(string id = "office-patch") => new()
    {
        Id = id,
        Name = "Office 365 patch",
        SizeBytes = Content.Length,
        Codebases =
        [
            new Codebase { Kind = CodebaseKind.Unc, Location = $@"\\127.0.0.1@{UncPort}\packages\{id}.bin" },
            new Codebase { Kind = CodebaseKind.Http, Location = $"http://127.0.0.1:{HttpPort}/packages/{id}.bin" },
            new Codebase { Kind = CodebaseKind.Https, Location = $"https://127.0.0.1:{HttpsPort}/packages/{id}.bin" },
        ],
    };

    public static async Task<PackageServer> StartAsync(NotificationServerHost ns)
    {
        var certificate = ns.Services.GetRequiredService<CertificateAuthority>().IssueServerCertificate(["localhost"], [IPAddress.Loopback]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate, ClientCertificateMode = ClientCertificateMode.AllowCertificate, ClientCertificateValidation = (_, _, _) => true }));
            k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.MapGet("/packages/{name}", (string name) => Results.Bytes(Content, "application/octet-stream"));
        await app.StartAsync();
        var unc = new TcpListener(IPAddress.Loopback, 0);
        unc.Start();
        return new PackageServer(app, unc);
    }

    private async Task ServeUncAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _unc.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var stream = client.GetStream();
                    var reader = new StreamReader(stream, Encoding.UTF8, false, 1, leaveOpen: true);
                    var line = await reader.ReadLineAsync();
                    var header = line?.StartsWith("READ ", StringComparison.Ordinal) == true ? $"OK {Content.Length}\n" : "ERR bad request\n";
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(header));
                    if (header.StartsWith("OK", StringComparison.Ordinal))
                    {
                        await stream.WriteAsync(Content);
                    }
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _unc.Stop();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stop.Dispose();
    }
}
