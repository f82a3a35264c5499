using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tcm.Hosting.Diagnostics;

/// <summary>Healthy while the server's store answers (<see cref="TcmServerBuilder{TOptions}.AddStoreHealthCheck"/>).</summary>
internal sealed class StoreHealthCheck(Func<bool> isOpen, string path) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(isOpen()
            ? HealthCheckResult.Healthy($"store '{path}' is open")
            : HealthCheckResult.Unhealthy($"store '{path}' does not answer"));
}
