using System.Diagnostics.Metrics;
using Tcm.Hosting.Diagnostics;

namespace Tcm.TaskServer.Diagnostics;

/// <summary>The Task Server's counters (meter <c>Tcm.TaskServer</c>): channels, refusals, pushes, results, forwarding, delivery latency.</summary>
internal sealed class TsMetrics : IDisposable
{
    /// <summary>The meter name, for <c>dotnet-counters</c> and OpenTelemetry.</summary>
    public const string MeterName = "Tcm.TaskServer";

    private readonly Meter _meter;
    private readonly CountedUpDownCounter _connections;
    private readonly CountedCounter _refusals;
    private readonly CountedCounter _pushes;
    private readonly CountedCounter _results;
    private readonly CountedCounter _duplicates;
    private readonly CountedCounter _forwarded;
    private readonly CountedCounter _forwardFailures;
    private readonly Histogram<double> _latency;

    public TsMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _connections = new(_meter, "tcm.ts.connections", null, "Open Client Task Agent channels");
        _refusals = new(_meter, "tcm.ts.refusals", null, "Agents refused, by code");
        _pushes = new(_meter, "tcm.ts.pushes.sent", null, "Task pushes sent over channels");
        _results = new(_meter, "tcm.ts.results.received", null, "Results stored (first time)");
        _duplicates = new(_meter, "tcm.ts.results.duplicate", null, "Results received again");
        _forwarded = new(_meter, "tcm.ts.forwarded", null, "Statuses and results forwarded to the NS");
        _forwardFailures = new(_meter, "tcm.ts.forward.failures", null, "Failed attempts to reach the NS");
        _latency = _meter.CreateHistogram<double>("tcm.ts.delivery.latency", unit: "ms", description: "Task accepted to acknowledged by the agent");
    }

    public long Connections => _connections.Value;

    public long Forwarded => _forwarded.Total;

    public long Refusals => _refusals.Total;

    /// <summary>Observable gauges over the live state.</summary>
    public void ObserveAgents(Func<int> registered, Func<int> connected, Func<int> outbox)
    {
        _meter.CreateObservableGauge("tcm.ts.agents.registered", registered, description: "Agents registered with the Task Server");
        _meter.CreateObservableGauge("tcm.ts.agents.connected", connected, description: "Agents with an open channel");
        _meter.CreateObservableGauge("tcm.ts.outbox", outbox, description: "Statuses and results waiting for the NS");
    }

    public void ConnectionOpened() => _connections.Increment();

    public void ConnectionClosed() => _connections.Decrement();

    public void Refused(string code) => _refusals.Add(1, "code", code);

    public void PushesSent(int count) => _pushes.Add(count);

    public void ResultReceived(bool duplicate) => (duplicate ? _duplicates : _results).Add();

    public void Forward(int count) => _forwarded.Add(count);

    public void ForwardFailed() => _forwardFailures.Add();

    public void DeliveryLatency(long milliseconds) => _latency.Record(milliseconds);

    public void Dispose() => _meter.Dispose();
}
