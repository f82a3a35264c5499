using System.Diagnostics.Metrics;

namespace Tcm.Hosting.Storage;

/// <summary>
/// The store's instruments, on the <c>Tcm.Hosting.Storage</c> meter. A static meter, as .NET's own libraries keep one where
/// no host builds the type: a store is made by its server with <c>new</c>, outside dependency injection, and one writer per
/// store runs in a process.
/// </summary>
internal static class StoreInstruments
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Tcm.Hosting.Storage";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Time to run and commit one batch of the single writer, by store (<c>tcm</c>: the NS, <c>ts</c>: a Task Server).</summary>
    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram(
        "tcm.store.commit.duration", "s", "Time to run and commit one transaction of the store's single writer, by store.", tags: null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    /// <summary>Batches run again after a conflict with another writer of the database (a deadlock, a serialization failure), by store.</summary>
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>(
        "tcm.store.retries", "{transaction}", "Transactions of the store's single writer run again after a conflict with another writer, by store.");

    /// <summary>Writes per committed transaction, by store.</summary>
    public static readonly Histogram<int> BatchSize = Meter.CreateHistogram(
        "tcm.store.commit.writes", "{write}", "Writes run in one transaction of the store's single writer, by store.", tags: null,
        new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
}
