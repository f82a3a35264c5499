using System.Globalization;
using System.Text.RegularExpressions;

namespace Tcm.Features.Runner;

/// <summary>
/// Converts the text a step's regular expression captured (or a table cell) to the type of the step method's parameter.
/// Always culture-invariant. Supported:
/// <list type="bullet">
/// <item><c>string</c>: as captured (an optional group that did not match gives "").</item>
/// <item><c>int</c>, <c>long</c>, <c>short</c>, <c>byte</c>, <c>uint</c>, <c>ulong</c>: "42", "-7", "20,000" (thousands separators allowed).</item>
/// <item><c>double</c>, <c>float</c>, <c>decimal</c>: "1.5", "2e3"; and percentages: "99%" or "0.1 %" become the fraction 0.99 / 0.001.
/// The '%' must be part of the capture (<c>(\d+%)</c>); a percentage into an integer parameter is an error.</item>
/// <item><c>bool</c>: true/false, yes/no, on/off, enabled/disabled (any case).</item>
/// <item><c>TimeSpan</c>: "500ms", "10s", "1.5 s", "2m", "2 min", "1h", "1d", "1m30s", "10 seconds", "2 minutes", or "00:00:10".</item>
/// <item>enums: the member name, case-insensitive, spaces, '-' and '_' ignored ("prefer cem" matches <c>PreferCem</c>).</item>
/// <item><c>Guid</c>, <c>Uri</c>, <c>DateTimeOffset</c>, <c>DateTime</c> (ISO 8601), and <c>Nullable&lt;T&gt;</c> of any of these ("" gives null).</item>
/// </list>
/// </summary>
internal static partial class StepArgumentConverter
{
    /// <summary>Converts <paramref name="text"/> to <paramref name="type"/>; <paramref name="name"/> names the parameter or column in errors.</summary>
    public static object? Convert(string? text, Type type, string name)
    {
        text ??= "";
        if (type == typeof(string) || type == typeof(object))
        {
            return text;
        }

        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null)
        {
            return string.IsNullOrWhiteSpace(text) ? null : Convert(text, underlying, name);
        }

        var trimmed = text.Trim();
        try
        {
            var value = ConvertCore(trimmed, type);
            if (value is not null)
            {
                return value;
            }
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw Fail(text, type, name, ex.Message);
        }

        throw Fail(text, type, name, null);
    }

    private static object? ConvertCore(string text, Type type)
    {
        const NumberStyles integer = NumberStyles.Integer | NumberStyles.AllowThousands;
        const NumberStyles floating = NumberStyles.Float | NumberStyles.AllowThousands;
        var invariant = CultureInfo.InvariantCulture;

        if (type.IsEnum)
        {
            return ParseEnum(text, type);
        }

        if (text.EndsWith('%'))
        {
            var number = text[..^1].TrimEnd();
            return type == typeof(double) ? double.Parse(number, floating, invariant) / 100
                : type == typeof(float) ? float.Parse(number, floating, invariant) / 100
                : type == typeof(decimal) ? decimal.Parse(number, floating, invariant) / 100
                : throw new FormatException("a percentage converts to double, float or decimal (as a fraction: 99% is 0.99)");
        }

        return type switch
        {
            _ when type == typeof(int) => int.Parse(text, integer, invariant),
            _ when type == typeof(long) => long.Parse(text, integer, invariant),
            _ when type == typeof(short) => short.Parse(text, integer, invariant),
            _ when type == typeof(byte) => byte.Parse(text, integer, invariant),
            _ when type == typeof(uint) => uint.Parse(text, integer, invariant),
            _ when type == typeof(ulong) => ulong.Parse(text, integer, invariant),
            _ when type == typeof(double) => double.Parse(text, floating, invariant),
            _ when type == typeof(float) => float.Parse(text, floating, invariant),
            _ when type == typeof(decimal) => decimal.Parse(text, floating, invariant),
            _ when type == typeof(bool) => ParseBool(text),
            _ when type == typeof(TimeSpan) => ParseDuration(text),
            _ when type == typeof(Guid) => Guid.Parse(text),
            _ when type == typeof(Uri) => new Uri(text, UriKind.RelativeOrAbsolute),
            _ when type == typeof(DateTimeOffset) => DateTimeOffset.Parse(text, invariant, DateTimeStyles.AssumeUniversal),
            _ when type == typeof(DateTime) => DateTime.Parse(text, invariant, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
            _ => throw new FormatException($"{type.Name} is not a supported step parameter type"),
        };
    }

    private static bool? ParseBool(string text) => text.ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "enabled" => true,
        "false" or "no" or "off" or "disabled" => false,
        _ => null,
    };

    private static object? ParseEnum(string text, Type type)
    {
        var wanted = TableMapper.Normalize(text);
        foreach (var member in Enum.GetNames(type))
        {
            if (TableMapper.Normalize(member) == wanted)
            {
                return Enum.Parse(type, member);
            }
        }

        throw new FormatException($"expected one of: {string.Join(", ", Enum.GetNames(type))}");
    }

    /// <summary>Parses "500ms", "10s", "1m30s", "2 minutes", "00:00:10" into a <see cref="TimeSpan"/>.</summary>
    public static TimeSpan ParseDuration(string text)
    {
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

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            return span;
        }

        throw new FormatException("expected a duration such as 500ms, 10s, 2m, 1h, 1m30s or 00:00:10");
    }

    private static StepArgumentConversionException Fail(string text, Type type, string name, string? detail) =>
        new($"Cannot convert '{text}' to {Describe(type)} for '{name}'" + (detail is null ? "." : $": {detail}."));

    private static string Describe(Type type) =>
        Nullable.GetUnderlyingType(type) is { } inner ? inner.Name + "?" : type.Name;

    [GeneratedRegex(@"\G\s*(?<n>\d+(?:\.\d+)?)\s*(?<u>ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)(?![a-z])\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DurationPart();
}

/// <summary>A captured value that does not fit the step parameter's type; fails the step with a message naming both.</summary>
internal sealed class StepArgumentConversionException(string message) : Exception(message);
