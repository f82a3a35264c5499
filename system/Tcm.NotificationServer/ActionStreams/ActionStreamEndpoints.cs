using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Admin;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.ActionStreams;

/// <summary>
/// The action event streams in the admin API (read only): <c>GET /tcm/admin/actions/events</c> (all actions) and
/// <c>GET /tcm/admin/actions/{id}/events</c> (one action), server-sent events (<see cref="ActionEventStream"/>).
/// </summary>
internal static class ActionStreamEndpoints
{
    /// <summary>The streams' services.</summary>
    public static IServiceCollection AddActionStreams(this IServiceCollection services) =>
        services.AddSingleton(static sp =>
        {
            var ledger = sp.GetRequiredService<ActionLedger>();
            var log = new ActionEventLog(ledger.HearTargetsAsync, sp.GetRequiredService<TimeProvider>());
            ledger.OnTargetsChanged(log.Append);
            return log;
        }).AddSingleton<ActionEventStream>();

    /// <summary>Maps the streams into the admin group (which requires the admin key or a console session).</summary>
    public static RouteGroupBuilder MapActionStreams(this RouteGroupBuilder admin)
    {
        // why now, before the server listens: the log turns the store's capture of changes off until a stream opens (the store
        // captures from its start), so no write pays for it with nobody listening.
        _ = ((IEndpointRouteBuilder)admin).ServiceProvider.GetRequiredService<ActionEventLog>();
        admin.MapGet("/actions/events", (HttpContext context, ActionEventStream stream) => stream.RunAsync(context, null))
            .WithAdminAccess(AdminRole.Viewer)
            .WithName("StreamAllActionEvents")
            .WithSummary("Server-sent events: every action's target state changes as they commit (resume with Last-Event-ID).")
            .Produces(StatusCodes.Status200OK, contentType: ServerSentEvents.ContentType);
        admin.MapGet("/actions/{id}/events", (string id, HttpContext context, ActionEventStream stream) => stream.RunAsync(context, id))
            .WithAdminAccess(AdminRole.Viewer)
            .WithName("StreamActionEvents")
            .WithSummary("Server-sent events: the action's snapshot, then each target's state change as it commits (resume with Last-Event-ID).")
            .Produces(StatusCodes.Status200OK, contentType: ServerSentEvents.ContentType);
        return admin;
    }
}
