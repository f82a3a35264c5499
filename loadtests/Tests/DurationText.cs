namespace Tcm.LoadTests.Tests;

/// <summary>
/// Durations as planners type them: the lab's forms (<c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, <c>1m30s</c>) and, for
/// the load tests' command line, <c>00:01:30</c>.
/// </summary>
internal static class DurationText
{
    /// <summary>Parses a duration; throws <see cref="FormatException"/> with the accepted forms.</summary>
    public static TimeSpan Parse(string text) => TryParse(text, out var value)
        ? value
        : throw new FormatException($"'{text}' is not a duration: use e.g. 500ms, 30s, 2m, 1h, 1m30s or 00:01:30.");

    /// <summary>Parses a duration.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        return text.Contains(':', StringComparison.Ordinal)
            ? TimeSpan.TryParse(text.Trim(), CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero
            : Lab.DurationText.TryParse(text, out value);
    }

    /// <summary>A short text for a duration (<c>1m30s</c>).</summary>
    public static string Format(TimeSpan value) => Lab.DurationText.Format(value);
}
