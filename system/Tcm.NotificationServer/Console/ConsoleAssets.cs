using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Tcm.NotificationServer.AdminConsole;

/// <summary>
/// The console's static files (HTML, CSS, JavaScript modules, SVG), embedded in this assembly under
/// <see cref="ResourcePrefix"/> and held in memory with a strong ETag each: no file system, no CDN, no build step.
/// </summary>
internal sealed class ConsoleAssets
{
    /// <summary>Logical name prefix of the embedded files (see the project file).</summary>
    public const string ResourcePrefix = "TcmConsole/";

    /// <summary>
    /// Every console answer carries these: scripts and styles only from this server, no framing, no referrer, no sniffing.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".json"] = "application/json",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, Asset> _assets;

    public ConsoleAssets()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            var type = ContentTypes.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream");
            var etag = $"\"{Convert.ToHexString(SHA256.HashData(bytes))[..16]}\"";
            assets[path] = new Asset(bytes, type, etag);
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Relative paths of the embedded files.</summary>
    public IEnumerable<string> Paths => _assets.Keys;

    /// <summary>Whether a file exists at this relative path (<c>app.js</c>, <c>pages/fleet.js</c>).</summary>
    public bool Exists(string path) => _assets.ContainsKey(path);

    /// <summary>Answers with the file, or 304 when the browser's copy is current; 404 when there is none.</summary>
    public IResult Serve(string path) => _assets.TryGetValue(path, out var asset) ? new AssetResult(asset) : Results.NotFound();

    /// <summary>Adds the console's security headers to a response.</summary>
    public static void AddSecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
    }

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    private sealed class AssetResult(Asset asset) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            AddSecurityHeaders(response);
            response.Headers.ETag = asset.ETag;
            // why: revalidate every time (a 304 costs nothing), so a server upgrade never leaves an old script in a browser.
            response.Headers.CacheControl = "no-cache";
            if (httpContext.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            }

            response.ContentType = asset.ContentType;
            response.ContentLength = asset.Bytes.Length;
            return HttpMethods.IsHead(httpContext.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(asset.Bytes, httpContext.RequestAborted).AsTask();
        }
    }
}
