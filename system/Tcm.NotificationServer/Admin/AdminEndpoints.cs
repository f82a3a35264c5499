using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tcm.NotificationServer.Channel;
using Tcm.NotificationServer.Diagnostics;
using Tcm.NotificationServer.Policy;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;
using Microsoft.Extensions.DependencyInjection;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// The admin API under <c>/tcm/admin</c>; every endpoint requires the admin key. Server settings and metrics are here; the
/// other features map their own endpoints into the group: <see cref="PolicyAdminEndpoints"/>, <see cref="AgentAdminEndpoints"/>,
/// <see cref="ActionAdminEndpoints"/>.
/// </summary>
internal static class AdminEndpoints
{
    /// <summary>The admin API's services: the agents' views and the admin key filter, and its OpenAPI document.</summary>
    public static IServiceCollection AddAdminApi(this IServiceCollection services) => services
        .AddSingleton<AgentViews>()
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
        admin.MapGet("/metrics", (NsMetrics metrics) => Ok(metrics.Snapshot(), ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64))
            .WithName("GetMetrics").WithSummary("Snapshot of the server's counters.").Produces<IReadOnlyDictionary<string, long>>();
        return admin;
    }

    private static void MapSettings(RouteGroupBuilder admin)
    {
        admin.MapGet("/settings", (PolicyService policy) => Ok(policy.Configuration.Settings, ProtocolJsonContext.Default.ServerSettings))
            .WithName("GetSettings").WithSummary("The server settings, among them 'TCM communication'.").Produces<ServerSettings>();

        admin.MapPut("/settings", async (HttpRequest request, PolicyService policy, PolicyDistributor distributor) =>
        {
            var (settings, error) = await ReadAsync(request, ProtocolJsonContext.Default.ServerSettings);
            if (error is not null)
            {
                return error;
            }

            await policy.UpdateSettingsAsync(settings!, request.HttpContext.RequestAborted);
            await distributor.DistributeAsync(request.HttpContext.RequestAborted);
            return Ok(policy.Configuration.Settings, ProtocolJsonContext.Default.ServerSettings);
        })
            .WithName("PutSettings").WithSummary("Changes the server settings; connected agents get their new policy at once.")
            .Accepts<ServerSettings>(Json).Produces<ServerSettings>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);
    }
}
