using System.Text;
using System.Text.Json;
using Tcm.Hosting.Admin;
using Tcm.NotificationServer.ActionStreams;
using Tcm.NotificationServer.Admin;
using AdminKeyFilter = Tcm.NotificationServer.Admin.AdminKeyFilter;

namespace Tcm.NotificationServer.AdminConsole;

/// <summary>
/// The admin console under <c>/console/</c> on the server's HTTPS port: a login page, the single-page console (behind a
/// session), its embedded static files, and <c>/console/api</c>: login, logout and the live fleet feed (server-sent events).
/// The console itself talks to the ordinary admin API, which accepts the session cookie (see <see cref="AdminKeyFilter"/>).
/// </summary>
internal static class ConsoleEndpoints
{
    /// <summary>Where the console lives.</summary>
    public const string Root = "/console";

    private static readonly TimeSpan FailedLoginDelay = TimeSpan.FromMilliseconds(750);
    private static readonly byte[] FeedPreamble = Encoding.UTF8.GetBytes("retry: 2000\n\n");
    private static readonly byte[] FleetEventStart = Encoding.UTF8.GetBytes("event: fleet\ndata: ");
    private static readonly byte[] EventEnd = Encoding.UTF8.GetBytes("\n\n");

    /// <summary>Registers the console's services.</summary>
    public static IServiceCollection AddTcmConsole(this IServiceCollection services) =>
        services.AddSingleton<ConsoleSessions>().AddSingleton<ConsoleAssets>().AddSingleton<FleetFeed>();

    /// <summary>Maps the console's pages, files and API.</summary>
    public static IEndpointRouteBuilder MapTcmConsole(this IEndpointRouteBuilder endpoints)
    {
        var console = endpoints.MapGroup(Root).ExcludeFromDescription();
        // why: routing does not tell /console from /console/; one endpoint sends the first to the second.
        console.MapGet("/", (HttpContext context, ConsoleSessions sessions, ConsoleAssets assets) =>
            !context.Request.Path.Value!.EndsWith('/') ? Results.Redirect($"{Root}/")
            : sessions.Check(context) == ConsoleSessionCheck.Valid ? assets.Serve("index.html")
            : Results.Redirect($"{Root}/login"));
        console.MapGet("/login", (ConsoleAssets assets) => assets.Serve("login.html"));
        console.MapGet("/assets/{**path}", (string path, ConsoleAssets assets) => assets.Serve(path));

        console.MapPost("/api/login", LoginAsync);
        var api = console.MapGroup("/api").AddEndpointFilter<AdminKeyFilter>();
        api.MapPost("/logout", (HttpContext context, ConsoleSessions sessions) =>
        {
            sessions.Revoke(context.Request.Cookies[ConsoleSessions.CookieName]);
            ConsoleSessions.ClearCookie(context.Response);
            return Results.NoContent();
        })
            .WithAdminAccess(Tcm.Protocol.Admin.AdminRole.Viewer, AdminAccess.NotAudited);
        api.MapGet("/feed", FeedAsync);
        return endpoints;
    }

    private static async Task<IResult> LoginAsync(HttpContext context, ConsoleSessions sessions, AdminKeyRing keys, TimeProvider time)
    {
        // why: login CSRF; a cross-site form cannot send this header.
        if (!context.Request.Headers.ContainsKey(ConsoleSessions.HeaderName))
        {
            return AdminResults.Error(StatusCodes.Status403Forbidden, "console-header-required", $"send the {ConsoleSessions.HeaderName} header");
        }

        ConsoleLogin? login;
        try
        {
            login = await JsonSerializer.DeserializeAsync(context.Request.Body, ConsoleJsonContext.Default.ConsoleLogin, context.RequestAborted);
        }
        catch (JsonException)
        {
            login = null;
        }

        if (keys.Identify(login?.Key?.Trim()) is not { } caller)
        {
            // why: slows down guessing; the key is 32 random bytes, this only keeps logs and CPU calm.
            await Task.Delay(FailedLoginDelay, time, context.RequestAborted);
            return AdminResults.Error(StatusCodes.Status401Unauthorized, AdminKeyFilter.KeyRequired, "that is not an admin key of this server");
        }

        ConsoleSessions.SetCookie(context.Response, sessions.Create(caller));
        context.Response.Headers.CacheControl = "no-store";
        return Results.NoContent();
    }

    private static async Task FeedAsync(HttpContext context, FleetFeed feed)
    {
        var response = context.Response;
        ServerSentEvents.Start(context);
        var ct = context.RequestAborted;
        using var subscription = feed.Subscribe();
        try
        {
            await response.Body.WriteAsync(FeedPreamble, ct);
            await foreach (var snapshot in subscription.Reader.ReadAllAsync(ct))
            {
                await response.Body.WriteAsync(FleetEventStart, ct);
                await response.Body.WriteAsync(snapshot, ct);
                await response.Body.WriteAsync(EventEnd, ct);
                await response.Body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The browser left the page.
        }
    }
}
