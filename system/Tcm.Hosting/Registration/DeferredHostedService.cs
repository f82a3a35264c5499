using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Tcm.Hosting.Registration;

/// <summary>
/// A hosted service resolved in <see cref="StartAsync"/> rather than when the host collects its services, which happens before
/// any <see cref="IHostedLifecycleService.StartingAsync"/>: its dependencies may need what those obtained (the identity).
/// </summary>
internal sealed class DeferredHostedService<TService>(IServiceProvider services) : IHostedService
    where TService : class, IHostedService
{
    private TService? _service;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _service = services.GetRequiredService<TService>();
        return _service.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _service?.StopAsync(cancellationToken) ?? Task.CompletedTask;
}
