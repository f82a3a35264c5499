namespace Tcm.Agent.Connection;

/// <summary>
/// Full-jitter exponential back-off: the n-th delay (n from 0) is uniform in [0, min(Max, Initial * Multiplier^n)].
/// Full jitter spreads a fleet's reconnects over the whole window, so a restarted server is not stormed.
/// Not thread-safe: one per loop.
/// </summary>
internal sealed class Backoff
{
    // why: one delegate for every back-off in the process (an agent has four; a simulator thousands of agents), not one each.
    private static readonly Func<double> SharedRandom = Random.Shared.NextDouble;

    private readonly BackoffOptions _options;
    private readonly Func<double> _random;

    /// <param name="options">Bounds of the delays.</param>
    /// <param name="random">Uniform source in [0, 1); <see cref="Random.Shared"/> when null.</param>
    public Backoff(BackoffOptions options, Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Initial < TimeSpan.Zero || options.Max < TimeSpan.Zero || options.Multiplier < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options, "back-off needs Initial >= 0, Max >= 0 and Multiplier >= 1");
        }

        _options = options;
        _random = random ?? SharedRandom;
    }

    /// <summary>Failed attempts since the last <see cref="Reset"/>.</summary>
    public int Attempt { get; private set; }

    /// <summary>The ceiling of the delay for attempt <paramref name="attempt"/> (0-based).</summary>
    public TimeSpan Ceiling(int attempt)
    {
        var max = _options.Max.TotalMilliseconds;
        var ceiling = _options.Initial.TotalMilliseconds * Math.Pow(_options.Multiplier, attempt);
        // Pow overflows to infinity for large attempts; the cap absorbs it.
        return TimeSpan.FromMilliseconds(double.IsFinite(ceiling) ? Math.Min(max, ceiling) : max);
    }

    /// <summary>The next delay; grows the ceiling for the attempt after.</summary>
    public TimeSpan Next()
    {
        var ceiling = Ceiling(Attempt);
        if (Attempt < int.MaxValue)
        {
            Attempt++;
        }

        var r = Math.Clamp(_random(), 0, 1);
        return TimeSpan.FromMilliseconds(Math.Floor(ceiling.TotalMilliseconds * r));
    }

    /// <summary>Back to the first attempt after a success.</summary>
    public void Reset() => Attempt = 0;
}
