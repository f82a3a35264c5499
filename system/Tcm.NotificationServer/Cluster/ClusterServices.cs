using Microsoft.Extensions.Options;

namespace Tcm.NotificationServer.Cluster;

/// <summary>Registers what several Notification Server nodes on one database need: the node's name, the node signal, who holds which agent.</summary>
internal static class ClusterServices
{
    public static IServiceCollection AddCluster(this IServiceCollection services)
    {
        services.AddSingleton(static sp => NodeIdentity.Of(sp.GetRequiredService<IOptions<NotificationServerOptions>>().Value));
        services.AddSingleton<NodeCatchUp>();
        services.AddSingleton<INodeSignal>(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<NotificationServerOptions>>().Value;
            return !IsShared(options)
                ? new NoNodeSignal()
                : new PostgresNodeSignal(options.Store!, sp.GetRequiredService<NodeIdentity>(), sp.GetRequiredService<NodeCatchUp>(),
                    sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PostgresNodeSignal>>());
        });
        services.AddHostedService<NodePresence>();
        return services;
    }

    /// <summary>
    /// Whether other nodes may share this node's database. Why: an empty <c>Store</c> is the embedded SQLite file, which no other node can
    /// share; anything else names a PostgreSQL database.
    /// </summary>
    public static bool IsShared(NotificationServerOptions options) => !string.IsNullOrWhiteSpace(options.Store);
}
