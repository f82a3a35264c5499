using System.Diagnostics.Metrics;

namespace Tcm.Hosting.Diagnostics;

/// <summary>
/// The metrics of a server that holds agents' channels and pushes through them (the Notification Server and the Task Server):
/// channels and agent requests by transport and route, and the delivery's pushes, acknowledgements, results, latency and
/// failed TLS handshakes, under the server's own prefix (<c>tcm.ns</c>, <c>tcm.ts</c>).
/// </summary>
public abstract class ChannelServerMeter : ServerMeter, IChannelFigures
{
    /// <summary>Creates the meter <paramref name="meterName"/> with the channel and delivery instruments named under <paramref name="prefix"/>.</summary>
    /// <param name="meters">The host's meter factory.</param>
    /// <param name="meterName">The meter, e.g. <c>Tcm.NotificationServer</c>.</param>
    /// <param name="prefix">The instruments' prefix, e.g. <c>tcm.ns</c>.</param>
    /// <param name="liveName">The gauge of live channels.</param>
    /// <param name="resultsName">The counter of results stored.</param>
    /// <param name="duplicatesName">The counter of duplicate results.</param>
    protected ChannelServerMeter(IMeterFactory meters, string meterName, string prefix, string liveName, string resultsName, string duplicatesName)
        : base(meters, meterName)
    {
        Channels = new(Meter, prefix, liveName);
        Delivery = new(Meter, prefix, resultsName, duplicatesName);
    }

    /// <summary>Channels accepted and agent HTTP requests, by transport and route.</summary>
    public ChannelInstruments Channels { get; }

    /// <summary>The delivery's instruments.</summary>
    protected DeliveryInstruments Delivery { get; }

    long IChannelFigures.Live => Channels.Live;

    long IChannelFigures.Accepted => Channels.Opened;

    /// <summary>A TLS handshake failed.</summary>
    public void HandshakeFailed() => Delivery.HandshakeFailures.Add();

    /// <summary><paramref name="count"/> pushes were written to channels.</summary>
    public void PushesSent(int count) => Delivery.Pushes.Add(count);

    /// <summary>An acknowledgement came back.</summary>
    public void Ack() => Delivery.Acks.Add();

    /// <summary>A result was received: stored, or a duplicate of one stored before.</summary>
    public void ResultReceived(bool duplicate) => (duplicate ? Delivery.Duplicates : Delivery.Results).Add();

    /// <summary>The time from a push's creation to its acknowledgement.</summary>
    public void DeliveryLatency(double milliseconds) => Delivery.Latency.Record(milliseconds);
}
