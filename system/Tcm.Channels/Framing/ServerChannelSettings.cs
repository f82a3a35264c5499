namespace Tcm.Channels.Framing;

/// <summary>What every channel of one server shares: its clock, the largest message a peer may send, and how long a closing peer may take.</summary>
/// <param name="Time">The clock of the open time and the close deadline.</param>
/// <param name="MaxMessageBytes">The largest message the peer may send.</param>
/// <param name="CloseTimeout">How long a closing channel may take to answer our close before it is aborted.</param>
public sealed record ServerChannelSettings(TimeProvider Time, int MaxMessageBytes, TimeSpan CloseTimeout)
{
    /// <summary>The close timeout of both servers: 5 seconds.</summary>
    public static readonly TimeSpan DefaultCloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the server may hold a stored result's acknowledgement for an agent that accepts it, waiting for a push to carry it;
    /// zero acknowledges every result at once. Default zero.
    /// </summary>
    public TimeSpan ResultAckDelay { get; init; }

    /// <summary>
    /// Most results one channel hands to the store before the first of them committed: the session reads on while they commit, and
    /// at this many waits for one (the agent meets back-pressure). Default <see cref="DefaultMaxResultsInFlight"/>.
    /// </summary>
    public int MaxResultsInFlight { get; init; } = DefaultMaxResultsInFlight;

    /// <summary>The default of <see cref="MaxResultsInFlight"/>: 32.</summary>
    public const int DefaultMaxResultsInFlight = 32;
}
