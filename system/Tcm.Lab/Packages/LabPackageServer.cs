using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.Protocol;
using Tcm.Lab.Network;

namespace Tcm.Lab.Packages;

/// <summary>
/// The lab's corporate package server (<c>pkg.tcm.lab</c>): one loopback listener per codebase kind, each registered in the run's
/// <see cref="NetworkTopology"/> as <see cref="EndpointClass.Corporate"/> (reachable in the office or over the VPN adapter). HTTPS
/// (certificate from the NS's CA) is also a backend of the CEM gateway, which is how an agent in CEM fetches it (the gateway's relay,
/// <c>https://gw.tcm.lab:port/relay/pkg.tcm.lab:port/...</c>): the agent never calls a corporate codebase directly while CEM is preferred.
/// HTTP serves <c>GET /packages/{id}</c>; "UNC" is the agent's TCM-UNC/1 line protocol (<c>READ share\path\n</c>, answered
/// <c>OK {length}\n</c> and the bytes). A package serves <see cref="Publish"/>'s size of deterministic bytes.
/// <para>
/// Codebases at a site: the same listeners also answer as the site's package server, <c>pkg.{site}.tcm.lab</c> (see
/// <see cref="SiteHostName"/>), registered as another corporate host on the same ports when a package first names the site. UNC and
/// HTTP codebases at a site are located on that host. HTTPS codebases, whatever their site, stay on <see cref="HostName"/> (a site's
/// under <c>/sites/{site}/packages/</c>): the gateway relays only to the backends it was started with, so this is how an HTTPS codebase
/// at a site published after the gateway started stays reachable through it. Only the codebase's site decides its nearness.
/// </para>
/// </summary>
public sealed class LabPackageServer : IAsyncDisposable
{
    /// <summary>The package server's corporate host name (codebases without a site, and every HTTPS codebase).</summary>
    public const string HostName = "pkg.tcm.lab";

    private const int ChunkBytes = 64 * 1024;
    private static readonly byte[] s_chunk = Enumerable.Range(0, ChunkBytes).Select(i => (byte)(i * 31)).ToArray();
    private readonly ConcurrentDictionary<string, long> _packages = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<string> _siteHosts = new(StringComparer.OrdinalIgnoreCase);
    private NetworkTopology? _topology;
    private WebApplication? _app;
    private TcpListener? _unc;
    private Task _uncLoop = Task.CompletedTask;

    private LabPackageServer()
    {
    }

    /// <summary>The HTTPS listener's port (a gateway backend).</summary>
    public int HttpsPort { get; private set; }

    /// <summary>The HTTP listener's port.</summary>
    public int HttpPort { get; private set; }

    /// <summary>The UNC listener's port.</summary>
    public int UncPort { get; private set; }

    /// <summary>The HTTPS codebase's <c>host:port</c>, as the gateway's backend and the agents name it.</summary>
    public string HttpsAddress => $"{HostName}:{HttpsPort}";

    /// <summary>Starts the three listeners on loopback and registers them in <paramref name="topology"/>.</summary>
    public static async Task<LabPackageServer> StartAsync(X509Certificate2 certificate, NetworkTopology topology, ILoggerFactory loggers, CancellationToken ct)
    {
        var server = new LabPackageServer();
        try
        {
            await server.StartCoreAsync(certificate, topology, loggers, ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The host name of <paramref name="site"/>'s package server: <c>pkg.{site}.tcm.lab</c>, the site lower-cased and every character
    /// other than <c>a-z</c>, <c>0-9</c> and <c>-</c> replaced by <c>-</c> (<c>New York</c>: <c>pkg.new-york.tcm.lab</c>).
    /// </summary>
    public static string SiteHostName(string site)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(site);
        var label = string.Concat(site.Trim().ToLowerInvariant().Select(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' ? c : '-'));
        return $"pkg.{label}.tcm.lab";
    }

    /// <summary>
    /// Makes <paramref name="id"/> available with <paramref name="sizeBytes"/> bytes and returns it with one codebase per distinct
    /// kind and site of <paramref name="codebases"/>, in their order. A site named for the first time gets its host registered.
    /// </summary>
    public PackageReference Publish(string id, long sizeBytes, IReadOnlyList<CodebaseSpec> codebases)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentOutOfRangeException.ThrowIfNegative(sizeBytes);
        ArgumentNullException.ThrowIfNull(codebases);
        var distinct = codebases
            .Select(c => c with { Site = string.IsNullOrWhiteSpace(c.Site) ? null : c.Site.Trim() })
            .DistinctBy(c => (c.Kind, c.Site?.ToUpperInvariant()))
            .ToArray();
        foreach (var site in distinct.Where(c => c.Kind != CodebaseKind.Https && c.Site is not null).Select(c => c.Site!))
        {
            RegisterSite(site);
        }

        _packages[id] = sizeBytes;
        var file = Uri.EscapeDataString(id) + ".bin";
        return new PackageReference
        {
            Id = id,
            Name = id,
            SizeBytes = sizeBytes,
            Codebases = distinct.Select(c => new Codebase
            {
                Kind = c.Kind,
                Site = c.Site,
                Location = (c.Kind, c.Site) switch
                {
                    (CodebaseKind.Unc, _) => $@"\\{Host(c.Site)}@{UncPort}\packages\{file}",
                    (CodebaseKind.Http, _) => $"http://{Host(c.Site)}:{HttpPort}/packages/{file}",
                    (_, null) => $"https://{HostName}:{HttpsPort}/packages/{file}",
                    (_, { } site) => $"https://{HostName}:{HttpsPort}/sites/{Uri.EscapeDataString(site)}/packages/{file}",
                },
            }).ToArray(),
        };
    }

    private static string Host(string? site) => site is null ? HostName : SiteHostName(site);

    /// <summary>Registers <paramref name="site"/>'s host on the UNC and HTTP listeners' ports, once (the topology is thread-safe).</summary>
    private void RegisterSite(string site)
    {
        var topology = _topology ?? throw new InvalidOperationException("the package server is not started");
        var host = SiteHostName(site);
        lock (_siteHosts)
        {
            if (!_siteHosts.Add(host))
            {
                return;
            }

            topology.Register(host, HttpPort, EndpointClass.Corporate, new IPEndPoint(IPAddress.Loopback, HttpPort), $"package server {site} (HTTP)");
            topology.Register(host, UncPort, EndpointClass.Corporate, new IPEndPoint(IPAddress.Loopback, UncPort), $"package server {site} (UNC)");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _unc?.Stop();
        await _uncLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_app is { } app)
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }

        _stop.Dispose();
    }

    private async Task StartCoreAsync(X509Certificate2 certificate, NetworkTopology topology, ILoggerFactory loggers, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(k =>
        {
            // The gateway presents its site-server certificate to backends; the package server accepts any (or none).
            k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = certificate,
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                ClientCertificateValidation = (_, _, _) => true,
            }));
            k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.MapGet("/packages/{file}", ServeHttpAsync);
        app.MapGet("/sites/{site}/packages/{file}", (HttpContext context, string file) => ServeHttpAsync(context, file));
        await app.StartAsync(ct);
        _app = app;
        var urls = app.Urls.Select(u => new Uri(u)).ToList();
        HttpsPort = urls.Single(u => u.Scheme == Uri.UriSchemeHttps).Port;
        HttpPort = urls.Single(u => u.Scheme == Uri.UriSchemeHttp).Port;
        var unc = new TcpListener(IPAddress.Loopback, 0);
        unc.Start();
        _unc = unc;
        UncPort = ((IPEndPoint)unc.LocalEndpoint).Port;
        _uncLoop = ServeUncAsync(unc, _stop.Token);

        topology.Register(HostName, HttpsPort, EndpointClass.Corporate, new IPEndPoint(IPAddress.Loopback, HttpsPort), "package server (HTTPS)");
        topology.Register(HostName, HttpPort, EndpointClass.Corporate, new IPEndPoint(IPAddress.Loopback, HttpPort), "package server (HTTP)");
        topology.Register(HostName, UncPort, EndpointClass.Corporate, new IPEndPoint(IPAddress.Loopback, UncPort), "package server (UNC)");
        _topology = topology;
    }

    private async Task ServeHttpAsync(HttpContext context, string file)
    {
        if (!_packages.TryGetValue(PackageId(file), out var size))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = size;
        await WriteContentAsync(context.Response.Body, size, context.RequestAborted);
    }

    private async Task ServeUncAsync(TcpListener listener, CancellationToken stop)
    {
        var clients = new List<Task>();
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                break;
            }

            clients.RemoveAll(t => t.IsCompleted);
            clients.Add(ServeUncClientAsync(client, stop));
        }

        await Task.WhenAll(clients).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ServeUncClientAsync(TcpClient client, CancellationToken stop)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.UTF8, false, 1, leaveOpen: true);
                var line = await reader.ReadLineAsync(stop);
                var file = line is not null && line.StartsWith("READ ", StringComparison.Ordinal) ? line[5..].Split('\\')[^1] : null;
                if (file is null || !_packages.TryGetValue(PackageId(file), out var size))
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes("ERR no such package\n"), stop);
                    return;
                }

                await stream.WriteAsync(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"OK {size}\n")), stop);
                await WriteContentAsync(stream, size, stop);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }

    private static string PackageId(string file) =>
        Uri.UnescapeDataString(file.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) ? file[..^4] : file);

    private static async Task WriteContentAsync(Stream stream, long size, CancellationToken ct)
    {
        for (long sent = 0; sent < size; sent += ChunkBytes)
        {
            await stream.WriteAsync(s_chunk.AsMemory(0, (int)Math.Min(ChunkBytes, size - sent)), ct);
        }
    }
}
