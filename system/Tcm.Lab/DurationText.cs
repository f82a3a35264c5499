using System.Globalization;
using System.Text.RegularExpressions;

namespace Tcm.Lab;

/// <summary>Durations (<c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, <c>1m30s</c>), percentages (<c>25%</c>) and sizes (<c>50MB</c>) as scenarios, features and task parameters write them.</summary>
public static partial class DurationText
{
    /// <summary>Parses a duration: one or more number+unit parts (<c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>), or <c>0</c>.</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        text = text.Trim();
        if (text == "0")
        {
            return true;
        }

        var matches = DurationPart().Matches(text);
        if (matches.Count == 0 || matches.Sum(m => m.Length) != text.Length)
        {
            return false;
        }

        var ms = 0.0;
        foreach (Match m in matches)
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            ms += m.Groups[2].Value switch
            {
                "ms" => n,
                "s" => n * 1000,
                "m" => n * 60_000,
                _ => n * 3_600_000,
            };
        }

        value = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    /// <summary>Short form: <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1m30s</c>, <c>1.5s</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        if (value.TotalSeconds < 1)
        {
            return $"{value.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture)}ms";
        }

        if (value.TotalMinutes < 1)
        {
            return $"{value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s";
        }

        var parts = new List<string>();
        if (value.Days > 0 || value.Hours > 0)
        {
            parts.Add($"{(int)value.TotalHours}h");
        }

        if (value.Minutes > 0)
        {
            parts.Add($"{value.Minutes}m");
        }

        var seconds = value.Seconds + value.Milliseconds / 1000.0;
        if (seconds > 0)
        {
            parts.Add($"{seconds.ToString("0.###", CultureInfo.InvariantCulture)}s");
        }

        return string.Concat(parts);
    }

    /// <summary>Parses <c>25%</c> or <c>12.5%</c> to a fraction 0..1 (it may exceed 1; callers check ranges).</summary>
    public static bool TryParsePercent(string text, out double fraction)
    {
        fraction = 0;
        text = text.Trim();
        if (!text.EndsWith('%'))
        {
            return false;
        }

        if (!double.TryParse(text[..^1].Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var percent))
        {
            return false;
        }

        fraction = percent / 100.0;
        return true;
    }

    /// <summary>Parses a size: <c>0</c>, <c>512B</c>, <c>64KB</c>, <c>50MB</c>, <c>1.5GB</c> (binary multiples: 1 KB = 1024 bytes).</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        var m = SizePattern().Match(text.Trim());
        if (!m.Success)
        {
            return false;
        }

        var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var multiplier = m.Groups[2].Value.ToUpperInvariant() switch
        {
            "" or "B" => 1L,
            "KB" or "KIB" => 1L << 10,
            "MB" or "MIB" => 1L << 20,
            "GB" or "GIB" => 1L << 30,
            _ => -1L,
        };
        if (multiplier < 0)
        {
            return false;
        }

        bytes = (long)(n * multiplier);
        return true;
    }

    /// <summary>Bytes for people: <c>812 B</c>, <c>28.9 KB</c>, <c>1.2 GB</c>.</summary>
    public static string FormatBytes(double bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        var i = 0;
        while (Math.Abs(bytes) >= 1024 && i < units.Length - 1)
        {
            bytes /= 1024;
            i++;
        }

        return i == 0 ? $"{bytes:0} {units[i]}" : $"{bytes.ToString("0.#", CultureInfo.InvariantCulture)} {units[i]}";
    }

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPart();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();
}
