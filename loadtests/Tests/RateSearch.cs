namespace Tcm.LoadTests.Tests;

/// <summary>
/// The search for the highest rate a system carries without failing. Rates double from the first until one fails (or the
/// ceiling passes); then the gap between the highest rate that passed and the lowest that failed is halved
/// <c>refinements</c> times. A first rate that fails is halved downwards instead, until one passes or the floor is reached.
/// The caller runs <see cref="Next"/> and tells the outcome with <see cref="Record"/>; no clock, no I/O.
/// </summary>
internal sealed class RateSearch
{
    private readonly double _first;
    private readonly double _ceiling;
    private readonly double _floor;
    private readonly List<(double Rate, bool Passed)> _tried = [];
    private int _refinementsLeft;

    /// <param name="first">The first rate tried (per second, above zero).</param>
    /// <param name="ceiling">The highest rate tried; passing it ends the search.</param>
    /// <param name="refinements">Halvings of the gap between the highest pass and the lowest failure.</param>
    public RateSearch(double first, double ceiling, int refinements)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(first);
        ArgumentOutOfRangeException.ThrowIfLessThan(ceiling, first);
        ArgumentOutOfRangeException.ThrowIfNegative(refinements);
        _first = first;
        _ceiling = ceiling;
        _floor = first / 64;
        _refinementsLeft = refinements;
    }

    /// <summary>The highest rate that passed, or null when none did.</summary>
    public double? HighestPassed { get; private set; }

    /// <summary>The lowest rate that failed, or null when none did.</summary>
    public double? LowestFailed { get; private set; }

    /// <summary>Every rate tried, in order, with its outcome.</summary>
    public IReadOnlyList<(double Rate, bool Passed)> Tried => _tried;

    /// <summary>The rate to try next, or null when the search is over.</summary>
    public double? Next => (HighestPassed, LowestFailed) switch
    {
        (null, null) => _first,
        ({ } passed, null) => passed >= _ceiling ? null : Math.Min(passed * 2, _ceiling),
        (null, { } failed) => failed / 2 >= _floor ? failed / 2 : null,
        ({ } passed, { } failed) => _refinementsLeft > 0 ? (passed + failed) / 2 : null,
    };

    /// <summary>Records the outcome of the rate <see cref="Next"/> gave.</summary>
    public void Record(bool passed)
    {
        var rate = Next ?? throw new InvalidOperationException("The search is over.");
        if (HighestPassed is not null && LowestFailed is not null)
        {
            _refinementsLeft--;
        }

        _tried.Add((rate, passed));
        if (passed)
        {
            HighestPassed = Math.Max(HighestPassed ?? 0, rate);
        }
        else
        {
            LowestFailed = Math.Min(LowestFailed ?? double.MaxValue, rate);
        }
    }

    /// <summary>Parses a rate as <c>--rate</c> takes it: <c>2</c>, <c>2/s</c>, <c>0.5/s</c> or <c>30/m</c> (per second).</summary>
    public static bool TryParseRate(string? text, out double perSecond)
    {
        perSecond = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var parts = text.Trim().Split('/', 2);
        var divisor = parts.Length == 1 || parts[1] == "s" ? 1.0 : parts[1] == "m" ? 60.0 : double.NaN;
        if (double.IsNaN(divisor) || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var count) || count <= 0 || double.IsInfinity(count))
        {
            return false;
        }

        perSecond = count / divisor;
        return true;
    }
}
