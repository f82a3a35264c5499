using System.Globalization;
using System.Text.RegularExpressions;
using Tcm.Lab;
using Tcm.Protocol.Admin;

namespace Tcm.Simulator.Scenarios;

/// <summary>
/// The <c>waves:</c> of a <c>push-task</c>, in the scenario's words: <c>10% every 5s, stop after 2% failed</c> (a share of the
/// targets or a count per wave, optionally <c>every</c> a duration, optionally <c>stop after</c> a share or count <c>failed</c>).
/// </summary>
internal static partial class WavesText
{
    /// <summary>What an error says a valid value looks like.</summary>
    public const string Form = "'waves' reads like '10% every 5s, stop after 2% failed' or '200 every 30s' (a share or count per wave, 'every' a duration, 'stop after' a share or count 'failed')";

    /// <summary>The plan, or null with <paramref name="error"/> (the offset in <paramref name="text"/> and why).</summary>
    public static WavePlan? Parse(string text, out ExpressionError? error)
    {
        error = null;
        var match = Grammar().Match(text);
        if (!match.Success)
        {
            error = new ExpressionError(0, Form);
            return null;
        }

        var (size, sizeIsShare) = Amount(match.Groups["size"].Value);
        if (sizeIsShare ? size is not (> 0 and <= 100) : size < 1 || size != Math.Floor(size))
        {
            error = new ExpressionError(match.Groups["size"].Index, sizeIsShare ? "a wave's share must be more than 0% and at most 100%" : "a wave's size must be a whole number of targets, at least 1");
            return null;
        }

        var every = TimeSpan.Zero;
        if (match.Groups["every"].Success && !DurationText.TryParse(match.Groups["every"].Value, out every))
        {
            error = new ExpressionError(match.Groups["every"].Index, $"'every' needs a duration like 5s or 1m (got '{match.Groups["every"].Value}')");
            return null;
        }

        double? stopShare = null;
        int? stopCount = null;
        if (match.Groups["stop"].Success)
        {
            var (stop, stopIsShare) = Amount(match.Groups["stop"].Value);
            if (stopIsShare ? stop is not (> 0 and <= 100) : stop < 1 || stop != Math.Floor(stop))
            {
                error = new ExpressionError(match.Groups["stop"].Index, "'stop after' needs more than 0% and at most 100%, or a whole count of at least 1");
                return null;
            }

            if (stopIsShare)
            {
                stopShare = stop;
            }
            else
            {
                stopCount = (int)stop;
            }
        }

        return new WavePlan
        {
            Size = sizeIsShare ? null : (int)size,
            Percent = sizeIsShare ? size : null,
            EverySeconds = every.TotalSeconds,
            StopAfterFailedPercent = stopShare,
            StopAfterFailedCount = stopCount,
        };
    }

    private static (double Value, bool IsShare) Amount(string text) =>
        text.EndsWith('%') ? (double.Parse(text[..^1], CultureInfo.InvariantCulture), true) : (double.Parse(text, CultureInfo.InvariantCulture), false);

    [GeneratedRegex(@"^\s*(?<size>\d+(?:\.\d+)?%?)(?:\s+every\s+(?<every>\S+?))?\s*(?:,\s*stop\s+after\s+(?<stop>\d+(?:\.\d+)?%?)\s+failed)?\s*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Grammar();
}
