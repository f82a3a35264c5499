using Tcm.LoadTests.Harness.Statistics;

namespace Tcm.LoadTests.Tests;

/// <summary>Histograms with known percentiles for the report and threshold tests.</summary>
internal static class TestHistograms
{
    /// <summary><paramref name="count"/> latencies evenly spaced: <paramref name="stepMicroseconds"/>, twice that, and so on.</summary>
    public static LogHistogram Evenly(int count, long stepMicroseconds)
    {
        var histogram = new LogHistogram();
        for (var i = 1; i <= count; i++)
        {
            histogram.Record(i * stepMicroseconds);
        }

        return histogram;
    }
}
