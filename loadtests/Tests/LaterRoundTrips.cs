namespace Tcm.LoadTests.Tests;

/// <summary>
/// The round trips of a push test read once after its measured phase, for a target that would otherwise read them from the server
/// under test during it (<see cref="IRoundTripsAfterRun"/>); other targets record them per fan-out as before.
/// </summary>
internal static class LaterRoundTrips
{
    /// <summary>From now on (forgetting the fan-outs before, the warm-up's), the round trips wait for <see cref="RecordAsync"/>.</summary>
    public static void From(TestContext context)
    {
        if (context.Target is IRoundTripsAfterRun target)
        {
            target.ReadRoundTripsAfterRun();
        }
    }

    /// <summary>Reads the round trips left for after the run and records them in step <c>round-trip</c> (call it after the cost's window).</summary>
    public static async Task RecordAsync(ScenarioInitContext ctx, TestContext context)
    {
        if (context.Target is not IRoundTripsAfterRun target)
        {
            return;
        }

        var roundTrips = await target.ReadRoundTripsAsync(ctx.CancellationToken).ConfigureAwait(false);
        if (roundTrips.Count > 0)
        {
            ctx.MeasureHistogram("round-trip", LogHistogram.FromData(roundTrips), roundTrips.Count * (long)Math.Max(16, context.GetInt("--size")));
        }
    }
}
