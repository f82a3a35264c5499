namespace Tcm.LoadTests.Variants;

/// <summary>
/// A target whose round trips cost the server under test a read of its own (TCM: each target's <c>CompletedAt</c> from
/// <c>GET /tcm/admin/actions/{id}</c>, a query and a response over every target of the fan-out, which the bare server, timing its
/// echoes itself, has no counterpart of). Asked to, it leaves that read to after the measured phase, so the server's CPU and the
/// latencies of the fan-outs after it carry none of it; the round trips are the same timestamps, read once at the end.
/// </summary>
internal interface IRoundTripsAfterRun
{
    /// <summary>
    /// From now on <see cref="ILoadTarget.PushToAllAsync"/> decides a fan-out by what the agents saw (each one's result
    /// acknowledged) and returns no round trips; they wait for <see cref="ReadRoundTripsAsync"/>.
    /// </summary>
    void ReadRoundTripsAfterRun();

    /// <summary>
    /// The round trips of the fan-outs made since <see cref="ReadRoundTripsAfterRun"/> (each target's answer stored within its
    /// fan-out's timeout; microseconds), read from the server now; forgets them.
    /// </summary>
    Task<HistogramData> ReadRoundTripsAsync(CancellationToken cancellationToken);
}
