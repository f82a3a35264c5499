using System.Data.Common;

namespace Tcm.Hosting.Storage;

/// <summary>
/// When and how often a <see cref="StoreWriteQueue{TContext}"/> runs a batch again whose transaction failed on a conflict with another
/// writer of the same database: a database server that several processes write (PostgreSQL, several Notification Server nodes) may
/// abort one of two transactions that wait for each other's rows (a deadlock) or that it cannot serialise. Nothing of such a
/// transaction was kept, so running its writes again is safe; its callers see only the outcome of the last run.
/// </summary>
public sealed record StoreRetryPolicy
{
    /// <summary>Whether an exception is such a conflict (the batch is run again) rather than a failure of its own.</summary>
    public required Func<Exception, bool> IsConflict { get; init; }

    /// <summary>Most runs again of one batch; then its callers fail with <see cref="StoreConflictException"/>. Default 5.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>The longest wait before the first run again; each further one may wait twice as long. Default 20 ms.</summary>
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The longest wait before any run again. Default 1 s.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The clock of the waits. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>PostgreSQL's conflicts: a serialization failure (SQLSTATE 40001) or a deadlock (40P01).</summary>
    public static StoreRetryPolicy PostgreSql { get; } = new() { IsConflict = IsSerializationFailureOrDeadlock };

    /// <summary>Whether <paramref name="exception"/> is a serialization failure (SQLSTATE 40001) or a deadlock (40P01).</summary>
    public static bool IsSerializationFailureOrDeadlock(Exception exception) => exception is DbException { SqlState: "40001" or "40P01" };

    /// <summary>
    /// The wait before run again number <paramref name="retry"/> (0 for the first): between half and all of
    /// <see cref="FirstDelay"/> doubled per retry, at most <see cref="MaxDelay"/>. Why the random half: the two writers that
    /// conflicted would otherwise come back at the same instant and meet again.
    /// </summary>
    public TimeSpan DelayBefore(int retry)
    {
        var ceiling = FirstDelay * Math.Pow(2, Math.Min(retry, 30));
        if (ceiling > MaxDelay)
        {
            ceiling = MaxDelay;
        }

        return ceiling * (0.5 + (Random.Shared.NextDouble() / 2));
    }
}

/// <summary>A store transaction failed on a conflict with another writer more times than <see cref="StoreRetryPolicy.MaxRetries"/> allows; none of its writes was kept.</summary>
public sealed class StoreConflictException : Exception
{
    /// <summary>The failure after <paramref name="runs"/> runs of a batch of <paramref name="writes"/> writes; <paramref name="last"/> is the last run's.</summary>
    public StoreConflictException(int writes, int runs, Exception last)
        : base($"A store transaction of {writes} writes failed on a conflict with another writer of the database (a deadlock or a serialization " +
            $"failure) {runs} times in a row; none of its writes was kept. Last: {last.Message}", last)
    {
    }
}
