using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Tcm.Hosting.Listeners;

namespace Tcm.Hosting.Registration;

/// <summary>
/// Obtains a server's site-server identity while the host starts, before Kestrel listens: loaded from the data folder, or
/// registered with the Notification Server on first run. Nothing blocks on the network while services are created; a server
/// that cannot obtain its identity fails <c>app.StartAsync()</c> with the loader's message.
/// </summary>
internal sealed class SiteServerRegistration<TIdentity>(
    Func<CancellationToken, Task<TIdentity>> loadOrRegister, Func<TIdentity, X509Certificate2> serverCertificate, ServerCertificateHolder holder) : IHostedLifecycleService, IDisposable
    where TIdentity : class
{
    private TIdentity? _identity;

    /// <summary>The identity; available once the application started.</summary>
    public TIdentity Identity => _identity
        ?? throw new InvalidOperationException($"The server's identity ({typeof(TIdentity).Name}) is obtained when the application starts: call app.StartAsync() first.");

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (_identity is not null)
        {
            return;
        }

        var identity = await loadOrRegister(cancellationToken).ConfigureAwait(false);
        holder.Set(serverCertificate(identity));
        _identity = identity;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => (_identity as IDisposable)?.Dispose();
}
