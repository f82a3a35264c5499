using Tcm.NotificationServer.Admin;
using Tcm.NotificationServer.Audit;
using Tcm.NotificationServer.SiteServerApi;
using Tcm.NotificationServer.SiteServers;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.Gateways;

/// <summary>
/// The CEM gateways' management endpoints under <c>/tcm/site/gateway</c> (site-server certificate of kind gateway: the report and
/// the decision long poll) and the admin API over them: <c>GET /tcm/admin/gateways</c>,
/// <c>POST /tcm/admin/gateways/{name}/certificates/{thumbprint}/approve|block</c>.
/// </summary>
internal static class GatewayEndpoints
{
    public static IServiceCollection AddGatewayManagement(this IServiceCollection services) => services.AddSingleton<GatewayRegistry>();

    public static void MapGatewayManagement(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(GatewayManagementPaths.Report, ReportAsync).ExcludeFromDescription();
        endpoints.MapPost(GatewayManagementPaths.Decisions, DecisionsAsync).ExcludeFromDescription();

        var admin = endpoints.MapGroup(TcmPaths.Admin).AddEndpointFilter<AdminKeyFilter>().WithTags("Gateways");
        admin.MapGet("/gateways", (GatewayRegistry registry) => Ok(registry.List(), ProtocolJsonContext.Default.IReadOnlyListGatewayView))
            .WithName("ListGateways")
            .WithSummary("CEM gateways registered with this server: each one's latest report (counters, held certificates; null until it reports) and the decisions it has not applied yet.")
            .Produces<IReadOnlyList<GatewayView>>();
        foreach (var action in Enum.GetValues<GatewayCertificateAction>())
        {
            var verb = action.ToString().ToLowerInvariant();
            admin.MapPost($"/gateways/{{name}}/certificates/{{thumbprint}}/{verb}", (string name, string thumbprint, HttpContext context, GatewayRegistry registry) =>
                    DecideAsync(context, registry, name, thumbprint, action))
                .WithName($"{action}GatewayCertificate").WithAdminAccess(AdminRole.Administrator, AuditKinds.Certificate)
                .WithSummary(action == GatewayCertificateAction.Approve
                    ? "Approves a certificate the gateway holds; the gateway applies (and keeps) it within seconds. 202 with the queued decision."
                    : "Blocks a certificate on the gateway (held, approved or not seen yet); the gateway applies (and keeps) it within seconds. 202 with the queued decision.")
                .Produces<GatewayDecision>(StatusCodes.Status202Accepted).Produces<ErrorBody>(StatusCodes.Status400BadRequest)
                .Produces<ErrorBody>(StatusCodes.Status404NotFound).Produces<ErrorBody>(StatusCodes.Status409Conflict);
        }
    }

    private static async Task<IResult> DecideAsync(HttpContext context, GatewayRegistry registry, string name, string thumbprint, GatewayCertificateAction action)
    {
        var outcome = await registry.DecideAsync(name, thumbprint, action, context.RequestAborted);
        if (outcome.Result == GatewayDecisionResult.Queued)
        {
            context.AuditChange($"{name}/{outcome.Decision!.Thumbprint}", null, outcome.Decision, ProtocolJsonContext.Default.GatewayDecision);
        }

        return outcome.Result switch
        {
            GatewayDecisionResult.Queued => Results.Json(outcome.Decision!, ProtocolJsonContext.Default.GatewayDecision, statusCode: StatusCodes.Status202Accepted),
            GatewayDecisionResult.UnknownGateway => NotFound($"there is no gateway '{name}'"),
            GatewayDecisionResult.BadThumbprint => BadRequest("thumbprint: the certificate's SHA-256 thumbprint, 64 hexadecimal digits"),
            GatewayDecisionResult.UnknownCertificate => Error(StatusCodes.Status404NotFound, "unknown-certificate",
                $"gateway '{name}' did not report certificate {thumbprint} as held; only a held certificate can be approved"),
            _ => Error(StatusCodes.Status409Conflict, "too-many-pending", $"gateway '{name}' has {GatewayRegistry.MaxPending} decisions it has not applied yet"),
        };
    }

    private static async Task ReportAsync(HttpContext context)
    {
        if (await AuthenticateAsync(context) is not { } gateway)
        {
            return;
        }

        var (report, error) = await ReadAsync(context.Request, ProtocolJsonContext.Default.GatewayReport);
        if (error is not null)
        {
            await error.ExecuteAsync(context);
            return;
        }

        await context.RequestServices.GetRequiredService<GatewayRegistry>().ReportAsync(gateway, report!, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task DecisionsAsync(HttpContext context)
    {
        if (await AuthenticateAsync(context) is not { } gateway || await SiteRequests.ReadWaitAsync(context) is not { } wait)
        {
            return;
        }

        var (poll, error) = await ReadAsync(context.Request, ProtocolJsonContext.Default.GatewayDecisionPoll);
        if (error is not null)
        {
            await error.ExecuteAsync(context);
            return;
        }

        var services = context.RequestServices;
        var registry = services.GetRequiredService<GatewayRegistry>();
        var time = services.GetRequiredService<TimeProvider>();
        var state = registry.Get(gateway);
        // why: a long poll must not hold up the NS's shutdown; the gateway polls again when the NS is back.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping);
        var deadline = time.GetUtcNow().AddSeconds(wait);
        var applied = poll!.Applied;
        registry.BeginPoll(gateway, state);
        try
        {
            IReadOnlyList<GatewayDecision> pending;
            while ((pending = await registry.TakeAsync(gateway, state, applied, context.RequestAborted)).Count == 0
                && deadline - time.GetUtcNow() is { } left && left > TimeSpan.Zero)
            {
                applied = [];
                try
                {
                    await state.Signal.WaitAsync(left, time, stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            if (!context.RequestAborted.IsCancellationRequested)
            {
                await Results.Json(new GatewayDecisions { Decisions = pending }, ProtocolJsonContext.Default.GatewayDecisions).ExecuteAsync(context);
            }
        }
        finally
        {
            registry.EndPoll(gateway, state);
        }
    }

    private static Task<SiteServerRecord?> AuthenticateAsync(HttpContext context) => SiteRequests.AuthenticateAsync(context, SiteServerKind.Gateway);
}
