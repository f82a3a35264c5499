using System.Globalization;
using System.Text.RegularExpressions;
using Reqnroll;
using Tcm.Features.Drivers;
using Tcm.Lab.Fleet;
using Tcm.Lab.Network;

namespace Tcm.Features.Steps;

/// <summary>
/// The product's values as the scenarios write them, turned into the step parameters' types. Reqnroll calls these for every
/// step argument of the return type (a transformation with a pattern only when the text matches it); anything else falls
/// back to Reqnroll's own conversion (numbers, <c>true</c> / <c>false</c>, enum member names). Always culture-invariant.
/// A pattern's capture groups are what Reqnroll passes in, one per parameter, so each pattern captures its value.
/// </summary>
[Binding]
internal sealed partial class StepValues
{
    /// <summary>A duration: <c>500ms</c>, <c>10s</c>, <c>1.5 s</c>, <c>2m</c>, <c>2 min</c>, <c>1h</c>, <c>1d</c>, <c>1m30s</c>, <c>10 seconds</c>, <c>00:00:10</c>.</summary>
    [StepArgumentTransformation]
    public static TimeSpan Duration(string text)
    {
        text = text.Trim();
        var parts = DurationPart().Matches(text);
        if (parts.Count > 0 && string.Concat(parts.Select(p => p.Value)).Length == text.Length)
        {
            var total = TimeSpan.Zero;
            foreach (Match part in parts)
            {
                var number = double.Parse(part.Groups["n"].Value, CultureInfo.InvariantCulture);
                total += part.Groups["u"].Value.ToLowerInvariant() switch
                {
                    "ms" or "millisecond" or "milliseconds" => TimeSpan.FromMilliseconds(number),
                    "s" or "sec" or "secs" or "second" or "seconds" => TimeSpan.FromSeconds(number),
                    "m" or "min" or "mins" or "minute" or "minutes" => TimeSpan.FromMinutes(number),
                    "h" or "hour" or "hours" => TimeSpan.FromHours(number),
                    _ => TimeSpan.FromDays(number),
                };
            }

            return total;
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span)
            ? span
            : throw new FormatException($"'{text}' is not a duration: expected one such as 500ms, 10s, 2m, 1h, 1m30s or 00:00:10");
    }

    /// <summary>A percentage as a fraction: <c>99%</c> is 0.99, <c>0.1 %</c> is 0.001.</summary>
    [StepArgumentTransformation(@"^\s*(-?\d+(?:\.\d+)?)\s*%\s*$")]
    public static double Percentage(string number) =>
        double.Parse(number.Trim().TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture) / 100;

    /// <summary>A switch in the scenarios' words: <c>on</c> / <c>off</c>, <c>yes</c> / <c>no</c>, <c>enabled</c> / <c>disabled</c> (<c>true</c> / <c>false</c> are Reqnroll's own).</summary>
    [StepArgumentTransformation("(?i)^(on|off|yes|no|enabled|disabled)$")]
    public static bool Switch(string text) => text.ToLowerInvariant() is "on" or "yes" or "enabled";

    /// <summary><c>office</c> or <c>internet</c>.</summary>
    [StepArgumentTransformation]
    public static AgentLocation Location(string text) => Member<AgentLocation>(text);

    /// <summary><c>valid</c>, <c>missing</c> or <c>invalid</c> CEM settings.</summary>
    [StepArgumentTransformation]
    public static CemValidity Cem(string text) => Member<CemValidity>(text);

    /// <summary>Why an agent works over HTTP polling, as the scenario says it.</summary>
    [StepArgumentTransformation]
    public static FallbackReason Reason(string text) => Member<FallbackReason>(text);

    /// <summary>The optional tail of "an agent ... in the office" (VPN, CEM settings, group, site), as the agent's definition.</summary>
    [StepArgumentTransformation]
    public static AgentDefinition Agent(string tail) => AgentTail.Parse(tail);

    /// <summary>The route of an agent's connections: <c>Direct</c>, <c>connected through the gateway</c>, <c>offline and retrying with back-off</c>.</summary>
    [StepArgumentTransformation]
    public static RouteOutcome Route(string text) => Member<RouteOutcome>(text);

    /// <summary>
    /// The enum member whose name is <paramref name="text"/> once case, spaces, '-' and '_' are set aside
    /// (<c>offline and retrying with back-off</c> is <c>OfflineAndRetryingWithBackOff</c>).
    /// </summary>
    public static T Member<T>(string text)
        where T : struct, Enum
    {
        var wanted = Normalize(text);
        foreach (var member in Enum.GetValues<T>())
        {
            if (Normalize(member.ToString()) == wanted)
            {
                return member;
            }
        }

        throw new FormatException($"'{text}' is not a {typeof(T).Name}: expected one of {string.Join(", ", Enum.GetNames<T>())}");
    }

    private static string Normalize(string text) =>
        string.Concat(text.Where(c => !char.IsWhiteSpace(c) && c is not '-' and not '_')).ToUpperInvariant();

    [GeneratedRegex(@"\G\s*(?<n>\d+(?:\.\d+)?)\s*(?<u>ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)(?![a-z])\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DurationPart();
}
