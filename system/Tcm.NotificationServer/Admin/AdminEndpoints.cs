using Tcm.NotificationServer.Audit;
using Tcm.NotificationServer.Diagnostics;
using Tcm.NotificationServer.Policy;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// The admin API under <c>/tcm/admin</c>; every endpoint requires an admin key whose role allows the call (<see cref="AdminAccess"/>). Server settings and metrics are here; the
/// other features map their own endpoints into the group: <see cref="PolicyAdminEndpoints"/>, <see cref="AgentAdminEndpoints"/>,
/// <see cref="ActionAdminEndpoints"/>.
/// </summary>
internal static class AdminEndpoints
{
    /// <summary>
    /// The admin API's services: the agents' views, the admin keys (which also guard the server's <c>/metrics</c>), the audit trail,
    /// the admin key filter, and its OpenAPI document.
    /// </summary>
    public static IServiceCollection AddAdminApi(this IServiceCollection services) => services
        .AddSingleton<AgentViews>()
        .AddSingleton<AdminKeyRing>()
        .AddSingleton<Tcm.Hosting.Admin.IAdminKeyRing>(sp => sp.GetRequiredService<AdminKeyRing>())
        .AddSingleton<AuditTrail>()
        .AddSingleton<AdminKeyFilter>()
        .AddOpenApi();

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup(TcmPaths.Admin).AddEndpointFilter<AdminKeyFilter>().WithTags("Admin");
        MapSettings(admin);
        admin.MapProfiles();
        admin.MapTargetedSettings();
        admin.MapAgents();
        admin.MapActions();
        admin.MapAccess();
        admin.MapGet("/metrics", (NsMetrics metrics) => Ok(metrics.Snapshot(), ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64))
            .WithName("GetMetrics").WithSummary("Snapshot of the server's counters.").Produces<IReadOnlyDictionary<string, long>>();
        return admin;
    }

    private static void MapSettings(RouteGroupBuilder admin)
    {
        admin.MapGet("/settings", (PolicyService policy) => Ok(policy.Configuration.Settings, ProtocolJsonContext.Default.ServerSettings))
            .WithName("GetSettings").WithSummary("The server settings, among them 'TCM communication'.").Produces<ServerSettings>();

        admin.MapPolicyInput("/settings", ProtocolJsonContext.Default.ServerSettings, static services => services.GetRequiredService<PolicyService>().Configuration.Settings, static async (services, settings, ct) =>
        {
            var policy = services.GetRequiredService<PolicyService>();
            await policy.UpdateSettingsAsync(settings, ct);
            return policy.Configuration.Settings;
        })
            .WithName("PutSettings").WithSummary("Changes the server settings; connected agents get their new policy at once.");
    }
}
