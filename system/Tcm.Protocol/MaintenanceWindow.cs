using System.Globalization;

namespace Tcm.Protocol;

/// <summary>
/// A daily maintenance window of targeted agent settings (<see cref="AgentSettings.MaintenanceWindows"/>), in UTC: from
/// <see cref="Start"/> to <see cref="End"/>, <c>HH:mm</c>; an end before the start crosses midnight, an end equal to the start is the
/// whole day.
/// </summary>
public sealed record MaintenanceWindow
{
    /// <summary>Opens at this time of day, UTC, <c>HH:mm</c>.</summary>
    public required string Start { get; init; }

    /// <summary>Closes at this time of day, UTC, <c>HH:mm</c>.</summary>
    public required string End { get; init; }

    /// <summary>What is wrong with the window, or null when it is good.</summary>
    public string? Check() =>
        Parse(Start) is null ? $"maintenance window start '{Start}' is not a time of day HH:mm"
        : Parse(End) is null ? $"maintenance window end '{End}' is not a time of day HH:mm"
        : null;

    /// <summary>
    /// When a task that is not urgent may start, at <paramref name="now"/> or later: <paramref name="now"/> itself when a window is open
    /// or there is none, else the next start of a window. Windows that do not parse are left out (the server refuses them when saved).
    /// </summary>
    public static DateTimeOffset NextOpening(IReadOnlyList<MaintenanceWindow>? windows, DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        var dayStart = new DateTimeOffset(utc.Date, TimeSpan.Zero);
        var timeOfDay = utc.TimeOfDay;
        DateTimeOffset? next = null;
        foreach (var window in windows ?? [])
        {
            if (Parse(window.Start) is not { } start || Parse(window.End) is not { } end)
            {
                continue;
            }

            var open = start == end
                || (start < end ? timeOfDay >= start && timeOfDay < end : timeOfDay >= start || timeOfDay < end);
            if (open)
            {
                return now;
            }

            var opening = dayStart + start;
            if (opening <= utc)
            {
                opening = opening.AddDays(1);
            }

            if (next is null || opening < next)
            {
                next = opening;
            }
        }

        return next ?? now;
    }

    private static TimeSpan? Parse(string? text) =>
        TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) ? time.ToTimeSpan() : null;
}
