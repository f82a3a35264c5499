namespace Tcm.Hosting.Diagnostics;

/// <summary>
/// The delivery instruments the NS and the Task Server share: pushes sent and queued, acknowledgements, results, duplicates,
/// delivery latency and failed TLS handshakes, under the server's prefix; totals kept for status endpoints.
/// </summary>
public sealed class DeliveryInstruments
{
    private readonly System.Diagnostics.Metrics.Meter _meter;
    private readonly string _prefix;

    /// <summary>Creates the instruments on <paramref name="meter"/>.</summary>
    /// <param name="meter">The server's meter.</param>
    /// <param name="prefix">The server's instrument prefix, e.g. <c>tcm.ns</c>.</param>
    /// <param name="resultsName">The name of the results counter (kept as each server first published it).</param>
    /// <param name="duplicatesName">The name of the duplicate results counter (likewise).</param>
    public DeliveryInstruments(System.Diagnostics.Metrics.Meter meter, string prefix, string resultsName, string duplicatesName)
    {
        _meter = meter;
        _prefix = prefix;
        Pushes = new(meter, prefix + ".pushes.sent", "{push}", "Push messages written to agents' channels.");
        Acks = new(meter, prefix + ".acks", "{ack}", "Acknowledgements that moved an agent's acknowledged sequence.");
        Results = new(meter, resultsName, "{result}", "Results stored (the first time).");
        Duplicates = new(meter, duplicatesName, "{result}", "Results received again and not stored again.");
        Latency = new(meter, prefix + ".delivery.latency", "ms", "Push stored to acknowledged by the agent.", ServerMeter.MillisecondBuckets);
        HandshakeFailures = new(meter, prefix + ".handshake_failures", "{connection}", "TLS handshakes that failed.");
    }

    /// <summary>Pushes sent.</summary>
    public CountedCounter Pushes { get; }

    /// <summary>Acknowledgements that moved a sequence.</summary>
    public CountedCounter Acks { get; }

    /// <summary>Results stored.</summary>
    public CountedCounter Results { get; }

    /// <summary>Results received again.</summary>
    public CountedCounter Duplicates { get; }

    /// <summary>Push stored to acknowledged, in milliseconds.</summary>
    public CountedHistogram Latency { get; }

    /// <summary>Failed TLS handshakes.</summary>
    public CountedCounter HandshakeFailures { get; }

    /// <summary>Pushes stored and not yet acknowledged, read at each collection.</summary>
    public void ObserveQueued(Func<long> queued) =>
        _meter.CreateObservableGauge(_prefix + ".pushes.queued", queued, "{push}", "Pushes stored and not yet acknowledged, over all agents.");
}
