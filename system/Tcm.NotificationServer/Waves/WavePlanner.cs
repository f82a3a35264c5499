using System.Globalization;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Waves;

/// <summary>The arithmetic of waves, without a clock or a store: how targets are cut into waves, and when the brake trips.</summary>
internal static class WavePlanner
{
    /// <summary>Targets per wave: <see cref="WavePlan.Size"/>, or <see cref="WavePlan.Percent"/> of <paramref name="targets"/> rounded up, at least one.</summary>
    public static int WaveSize(int targets, WavePlan plan)
    {
        if (plan.Size is { } size)
        {
            return size;
        }

        // why: 10% of 2,000 is 200.00000000000003 in binary floating point, which must not round up to 201.
        var share = Math.Round(targets * plan.Percent!.Value / 100, 9);
        return Math.Max(1, (int)Math.Ceiling(share));
    }

    /// <summary>Cuts <paramref name="ordered"/> into waves in their order; every wave but the last is full. No targets: no wave.</summary>
    public static List<T[]> Split<T>(IReadOnlyList<T> ordered, WavePlan plan) => [.. ordered.Chunk(WaveSize(ordered.Count, plan))];

    /// <summary>
    /// Why the brake trips, or null when the waves go on: the failed (and timed-out) targets reached <see cref="WavePlan.StopAfterFailedCount"/>,
    /// or reached <see cref="WavePlan.StopAfterFailedPercent"/> of the <paramref name="sent"/> targets of the <paramref name="wavesSent"/> waves
    /// sent so far (out of <paramref name="waves"/>).
    /// </summary>
    public static string? BrakeReason(WavePlan plan, int sent, int failed, int wavesSent, int waves)
    {
        if (failed == 0 || sent == 0)
        {
            return null;
        }

        var share = 100.0 * failed / sent;
        string? brake = null;
        if (plan.StopAfterFailedCount is { } count && failed >= count)
        {
            brake = string.Create(CultureInfo.InvariantCulture, $"the brake of {count} failed");
        }
        else if (plan.StopAfterFailedPercent is { } percent && share >= percent)
        {
            brake = string.Create(CultureInfo.InvariantCulture, $"the brake of {percent:0.##}% failed");
        }

        return brake is null
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"stopped after wave {wavesSent} of {waves}: {failed} of the {sent} targets sent failed or timed out ({share:0.#}%), reaching {brake}");
    }
}
