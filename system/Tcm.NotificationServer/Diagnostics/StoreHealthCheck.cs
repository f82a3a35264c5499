using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Diagnostics;

/// <summary>Healthy while the store answers a query.</summary>
internal sealed class StoreHealthCheck(TcmStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(store.IsOpen
            ? HealthCheckResult.Healthy($"store '{store.Path}' is open")
            : HealthCheckResult.Unhealthy($"store '{store.Path}' does not answer"));
}
