using System.Diagnostics.Metrics;

namespace Tcm.TaskServer.Diagnostics;

/// <summary>The Task Server's counters (meter <c>Tcm.TaskServer</c>): channels, refusals, pushes, results, forwarding, delivery latency.</summary>
internal sealed class TsMetrics : IDisposable
{
    /// <summary>The meter name, for <c>dotnet-counters</c> and OpenTelemetry.</summary>
    public const string MeterName = "Tcm.TaskServer";

    private readonly Meter _meter;
    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _pushes;
    private readonly Counter<long> _results;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _forwarded;
    private readonly Counter<long> _forwardFailures;
    private readonly Histogram<double> _latency;
    private long _connectionCount;
    private long _forwardedCount;
    private long _refusalCount;

    public TsMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _connections = _meter.CreateUpDownCounter<long>("tcm.ts.connections", description: "Open Client Task Agent channels");
        _refusals = _meter.CreateCounter<long>("tcm.ts.refusals", description: "Agents refused, by code");
        _pushes = _meter.CreateCounter<long>("tcm.ts.pushes.sent", description: "Task pushes sent over channels");
        _results = _meter.CreateCounter<long>("tcm.ts.results.received", description: "Results stored (first time)");
        _duplicates = _meter.CreateCounter<long>("tcm.ts.results.duplicate", description: "Results received again");
        _forwarded = _meter.CreateCounter<long>("tcm.ts.forwarded", description: "Statuses and results forwarded to the NS");
        _forwardFailures = _meter.CreateCounter<long>("tcm.ts.forward.failures", description: "Failed attempts to reach the NS");
        _latency = _meter.CreateHistogram<double>("tcm.ts.delivery.latency", unit: "ms", description: "Task accepted to acknowledged by the agent");
    }

    public long Connections => Interlocked.Read(ref _connectionCount);

    public long Forwarded => Interlocked.Read(ref _forwardedCount);

    public long Refusals => Interlocked.Read(ref _refusalCount);

    /// <summary>Observable gauges over the live state.</summary>
    public void ObserveAgents(Func<int> registered, Func<int> connected, Func<int> outbox)
    {
        _meter.CreateObservableGauge("tcm.ts.agents.registered", registered, description: "Agents registered with the Task Server");
        _meter.CreateObservableGauge("tcm.ts.agents.connected", connected, description: "Agents with an open channel");
        _meter.CreateObservableGauge("tcm.ts.outbox", outbox, description: "Statuses and results waiting for the NS");
    }

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _connectionCount);
        _connections.Add(1);
    }

    public void ConnectionClosed()
    {
        Interlocked.Decrement(ref _connectionCount);
        _connections.Add(-1);
    }

    public void Refused(string code)
    {
        Interlocked.Increment(ref _refusalCount);
        _refusals.Add(1, new KeyValuePair<string, object?>("code", code));
    }

    public void PushSent() => _pushes.Add(1);

    public void ResultReceived(bool duplicate)
    {
        if (duplicate)
        {
            _duplicates.Add(1);
        }
        else
        {
            _results.Add(1);
        }
    }

    public void Forward(int count)
    {
        Interlocked.Add(ref _forwardedCount, count);
        _forwarded.Add(count);
    }

    public void ForwardFailed() => _forwardFailures.Add(1);

    public void DeliveryLatency(long milliseconds) => _latency.Record(milliseconds);

    public void Dispose() => _meter.Dispose();
}
