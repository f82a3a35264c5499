using System.Diagnostics.Metrics;
using Tcm.Hosting.Diagnostics;

namespace Tcm.TaskServer.Diagnostics;

/// <summary>
/// The Task Server's counters (meter <c>Tcm.TaskServer</c>, scraped at <c>/metrics</c>, exported over OTLP): channels,
/// refusals, handshakes, pushes, acknowledgements, results, forwarding, queued work, delivery latency.
/// </summary>
internal sealed class TsMetrics : ChannelServerMeter
{
    /// <summary>The meter name, for <c>dotnet-counters</c> and OpenTelemetry.</summary>
    public const string MeterName = "Tcm.TaskServer";

    private readonly CountedCounter _refusals;
    private readonly CountedCounter _forwarded;
    private readonly CountedCounter _forwardFailures;

    public TsMetrics(IMeterFactory meters)
        : base(meters, MeterName, "tcm.ts", "tcm.ts.connections", "tcm.ts.results.received", "tcm.ts.results.duplicate")
    {
        _refusals = Counter("tcm.ts.refusals", "{connection}", "Agents refused, by code");
        _forwarded = Counter("tcm.ts.forwarded", "{item}", "Statuses and results forwarded to the NS");
        _forwardFailures = Counter("tcm.ts.forward.failures", "{attempt}", "Failed attempts to reach the NS");
    }

    public long Connections => Channels.Live;

    public long Forwarded => _forwarded.Total;

    public long Refusals => _refusals.Total;

    /// <summary>Observable gauges over the live state, read at each collection.</summary>
    public void ObserveAgents(Func<int> registered, Func<int> connected, Func<int> outbox, Func<long> queuedPushes)
    {
        Gauge("tcm.ts.agents.registered", registered, "{agent}", "Agents registered with the Task Server");
        Gauge("tcm.ts.agents.connected", connected, "{agent}", "Agents with an open channel");
        Gauge("tcm.ts.outbox", outbox, "{item}", "Statuses and results waiting for the NS");
        Delivery.ObserveQueued(queuedPushes);
    }

    /// <summary>
    /// The push window's queued work: <c>tcm.ts.pushes.waiting</c> (stored pushes held back until the window has room) and
    /// <c>tcm.ts.pushes.in_flight</c> (sent, not yet acknowledged).
    /// </summary>
    public void ObserveWindow(Func<int> waiting, Func<long> inFlight)
    {
        Gauge("tcm.ts.pushes.waiting", waiting, "{push}", "Stored pushes waiting for room in the push window (back-pressure).");
        Gauge("tcm.ts.pushes.in_flight", inFlight, "{push}", "Pushes sent and not yet acknowledged.");
    }

    public void Refused(string code) => _refusals.Add(1, "code", code);

    public void Forward(int count) => _forwarded.Add(count);

    public void ForwardFailed() => _forwardFailures.Add();
}
