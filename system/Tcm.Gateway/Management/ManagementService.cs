using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.Gateway.Certificates;
using Tcm.Gateway.Diagnostics;
using Tcm.Gateway.Identity;
using Tcm.Hosting;
using Tcm.Protocol;

namespace Tcm.Gateway.Management;

/// <summary>
/// Runs one <see cref="ManagementLoop"/> per Notification Server backend (with that NS's site-server certificate), so each NS's
/// console shows the gateway's counters and held certificates and its administrator's decisions reach the gateway. A decision
/// from any NS applies to the whole gateway: its approvals are one list. Off when <see cref="GatewayOptions.ReportInterval"/> is zero.
/// </summary>
internal sealed class ManagementService : BackgroundService
{
    private readonly List<(ManagementLoop Loop, ManagementClient Client)> _links = [];
    private readonly CertificateApprovals _approvals;
    private readonly IHostApplicationLifetime _lifetime;

    public ManagementService(IOptions<GatewayOptions> options, GatewayIdentity identity, StatusBuilder status, CertificateApprovals approvals,
        ServerAddresses addresses, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<ManagementLoop> logger)
    {
        _approvals = approvals;
        _lifetime = lifetime;
        var settings = options.Value;
        if (settings.ReportInterval <= TimeSpan.Zero)
        {
            return;
        }

        var timing = ManagementTiming.For(settings.ReportInterval);
        GatewayReport Build() => GatewayReports.Build(status.Build(), approvals, settings.ReportInterval) with { Address = addresses.PublicHostPort };
        foreach (var backend in settings.Backends.Where(b => b.Kind == BackendKind.NotificationServer))
        {
            if (identity.ByNotificationServer.TryGetValue(backend.Name, out var ns))
            {
                var client = new ManagementClient(backend, ns, time);
                _links.Add((new ManagementLoop(client, Build, Apply, timing, time, logger), client));
            }
        }

        approvals.Changed += NotifyChanged;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_links.Count == 0)
        {
            return;
        }

        // why: the report carries the bound address, known once Kestrel listens (port 0 in tests and the lab).
        using (var startedOrStopping = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.ApplicationStarted, stoppingToken))
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, startedOrStopping.Token).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }

        if (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        await Task.WhenAll(_links.Select(link => Task.Run(() => link.Loop.RunAsync(stoppingToken), CancellationToken.None))).ConfigureAwait(false);
    }

    private void Apply(GatewayDecision decision) =>
        _ = decision.Action == GatewayCertificateAction.Block ? _approvals.Block(decision.Thumbprint) : _approvals.Approve(decision.Thumbprint);

    private void NotifyChanged()
    {
        foreach (var (loop, _) in _links)
        {
            loop.NotifyChanged();
        }
    }

    public override void Dispose()
    {
        _approvals.Changed -= NotifyChanged;
        foreach (var (_, client) in _links)
        {
            client.Dispose();
        }

        base.Dispose();
    }
}

/// <summary>The report a gateway sends: its status's counters and its held certificates.</summary>
internal static class GatewayReports
{
    public static GatewayReport Build(GatewayStatus status, CertificateApprovals approvals, TimeSpan interval) => new()
    {
        StartedAt = status.StartedAt,
        At = status.Now,
        IntervalSeconds = (int)Math.Ceiling(interval.TotalSeconds),
        Counters = new GatewayCounters(status)
        {
            Backends = status.Backends,
        },
        Held = [.. approvals.Held(GatewayReport.MaxHeld).Select(e => new GatewayHeldCertificate(e.Thumbprint, e.Subject, e.Issuer, e.FirstSeen, e.LastSeen, e.Attempts))],
    };
}
