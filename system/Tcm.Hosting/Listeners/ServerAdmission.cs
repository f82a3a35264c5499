using System.Diagnostics.Metrics;

namespace Tcm.Hosting.Listeners;

/// <summary>
/// A server's two admission gates, <see cref="Handshakes"/> (before TLS, every listener) and <see cref="Upgrades"/> (a channel's
/// upgrade to its welcome, NS and Task Server), and their series on the <c>Tcm.Hosting.Admission</c> meter, labelled by
/// <c>stage</c> (<c>tls</c>, <c>upgrade</c>): <c>tcm.admission.started</c>, <c>.finished</c>, <c>.failed</c>, <c>.refused</c>,
/// <c>.timed_out</c>, <c>.abandoned</c>, <c>.expired</c>, and the gauges <c>tcm.admission.active</c> and <c>.queued</c>.
/// </summary>
public sealed class ServerAdmission : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Tcm.Hosting.Admission";

    /// <summary>The stage label of <see cref="Handshakes"/>.</summary>
    public const string TlsStage = "tls";

    /// <summary>The stage label of <see cref="Upgrades"/>.</summary>
    public const string UpgradeStage = "upgrade";

    private readonly Meter _meter;

    /// <summary>Creates both gates from <paramref name="options"/> and publishes their series.</summary>
    public ServerAdmission(AdmissionOptions options, TimeProvider time, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meters);
        Handshakes = new AdmissionGate(TlsStage, options.MaxConcurrentHandshakes, options.MaxQueued, options.QueueTimeout, time);
        Upgrades = new AdmissionGate(UpgradeStage, options.MaxConcurrentUpgrades, options.MaxQueued, options.QueueTimeout, time);
        HeldConnects = options.ConnectHoldLimit > TimeSpan.Zero ? new HeldConnects(options.ConnectHoldLimit, time) : null;
        _meter = meters.Create(MeterName);
        Counter("tcm.admission.started", "Admitted (at once or from the queue): TLS handshakes started, channel upgrades started.", static g => g.Started);
        Counter("tcm.admission.finished", "Finished: TLS handshakes completed, channels welcomed.", static g => g.Finished);
        Counter("tcm.admission.failed", "Admitted and failed: TLS handshakes that failed, upgrades that ended before the welcome.", static g => g.Failed);
        Counter("tcm.admission.refused", "Refused at once: the queue was full (a closed connection before TLS; 503 server-busy at the upgrade).", static g => g.Refused);
        Counter("tcm.admission.timed_out", "Refused after waiting the whole queue timeout.", static g => g.TimedOut);
        Counter("tcm.admission.abandoned", "Left the queue because the connection closed (or the request ended) while it waited.", static g => g.Abandoned);
        Counter("tcm.admission.expired", "Given back at the hold limit before the connect was done (a server that holds places through the connect).", static g => g.Expired);
        _meter.CreateObservableGauge("tcm.admission.active", () => Measure(static g => g.Active), "{connection}", "Admitted and not yet finished.");
        _meter.CreateObservableGauge("tcm.admission.queued", () => Measure(static g => g.Queued), "{connection}", "Waiting for a place.");
    }

    /// <summary>TLS handshakes: a connection waits here before its handshake starts.</summary>
    public AdmissionGate Handshakes { get; }

    /// <summary>Channel upgrades: a channel request waits here before the upgrade, and holds its place until its welcome.</summary>
    public AdmissionGate Upgrades { get; }

    /// <summary>The handshake places held through the connect, with their deadline; null on a server that admits TLS only.</summary>
    internal HeldConnects? HeldConnects { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        _meter.Dispose();
        HeldConnects?.Dispose();
        Handshakes.Dispose();
        Upgrades.Dispose();
    }

    private void Counter(string name, string description, Func<AdmissionGate, long> read) =>
        _meter.CreateObservableCounter(name, () => Measure(read), "{connection}", description);

    private Measurement<T>[] Measure<T>(Func<AdmissionGate, T> read)
        where T : struct =>
        [
            new(read(Handshakes), new KeyValuePair<string, object?>("stage", TlsStage)),
            new(read(Upgrades), new KeyValuePair<string, object?>("stage", UpgradeStage)),
        ];
}
