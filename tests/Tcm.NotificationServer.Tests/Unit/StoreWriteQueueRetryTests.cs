using Npgsql;
using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>
/// The single writer's retry (the NS's store on PostgreSQL runs with one): a batch whose transaction met a conflict with another writer
/// (a deadlock, a serialization failure; here a PostgreSQL exception of that SQLSTATE thrown by a write) runs again, all of it, after a
/// back-off on its clock; other failures are not retried; retries spent fail every caller with a clear error.
/// </summary>
public sealed class StoreWriteQueueRetryTests : IAsyncDisposable
{
    private readonly TimerCountingTimeProvider _clock = new();
    private readonly MemoryWriter _store;

    public StoreWriteQueueRetryTests() => _store = new MemoryWriter(retry: StoreRetryPolicy.PostgreSql with { MaxRetries = 2, Clock = _clock });

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    [Fact]
    public async Task ABatchWhoseWriteMetADeadlock_RunsAgainWholeAfterABackOff_AndKeepsOnlyTheLastRun()
    {
        var hold = await _store.HoldAsync("hold");
        var plainRuns = 0;
        var conflictRuns = 0;
        var plain = _store.Writer.WriteAsync(s =>
        {
            plainRuns++;
            return s.Execute("INSERT INTO t VALUES('plain')");
        });
        var conflicted = _store.Writer.WriteAsync(s =>
        {
            s.Execute("INSERT INTO t VALUES('conflicted')");
            return ++conflictRuns == 1 ? throw Conflict("40P01") : conflictRuns;
        });
        await hold.ReleaseAsync();

        await WaitForBackOffAsync();
        plain.IsCompleted.Should().BeFalse("the batch it shares with the conflicted write waits for its run again");
        _clock.Advance(StoreRetryPolicy.PostgreSql.FirstDelay);

        (await conflicted.WaitAsync(Eventually.DefaultDeadline)).Should().Be(2, "its caller gets the second run's result");
        (await plain.WaitAsync(Eventually.DefaultDeadline)).Should().Be(1);
        plainRuns.Should().Be(2, "the whole batch runs again");
        _store.Values().Should().Equal(["conflicted", "hold", "plain"], "nothing of the first run was kept");
        _store.Writer.RetryCount.Should().Be(1);
    }

    [Fact]
    public async Task ASerializationFailureAtEveryRun_FailsItsCallersWithStoreConflictException_AfterTheRetries()
    {
        var runs = 0;
        var write = _store.Writer.WriteAsync<int>(s =>
        {
            runs++;
            s.Execute("INSERT INTO t VALUES('never')");
            throw Conflict("40001");
        });

        for (var retry = 0; retry < 2; retry++)
        {
            await WaitForBackOffAsync();
            _clock.Advance(StoreRetryPolicy.PostgreSql.MaxDelay);
        }

        var failure = await write.Awaiting(w => w.WaitAsync(Eventually.DefaultDeadline)).Should().ThrowAsync<StoreConflictException>();
        failure.Which.InnerException.Should().BeOfType<PostgresException>().Which.SqlState.Should().Be("40001");
        failure.Which.Message.Should().Contain("3 times in a row");
        runs.Should().Be(3, "the first run and two retries");
        _store.Writer.RetryCount.Should().Be(2);
        _store.Values().Should().BeEmpty();
    }

    [Fact]
    public async Task AnOrdinaryFailure_IsTheWritesOwn_AndNotRetried()
    {
        var failing = _store.Writer.WriteAsync<int>(_ => throw Conflict("23505"));
        var other = _store.Writer.WriteAsync(s => s.Execute("INSERT INTO t VALUES('kept')"));

        await failing.Awaiting(w => w.WaitAsync(Eventually.DefaultDeadline)).Should().ThrowAsync<PostgresException>();
        (await other.WaitAsync(Eventually.DefaultDeadline)).Should().Be(1);
        _store.Writer.RetryCount.Should().Be(0);
        _clock.ActiveTimers.Should().Be(0);
    }

    [Theory]
    [InlineData("40001", true)]
    [InlineData("40P01", true)]
    [InlineData("23505", false)]
    [InlineData("57P01", false)]
    public void PostgreSqlPolicy_RetriesSerializationFailuresAndDeadlocksOnly(string sqlState, bool retried) =>
        StoreRetryPolicy.PostgreSql.IsConflict(Conflict(sqlState)).Should().Be(retried);

    [Fact]
    public void BackOff_DoublesFromTheFirstDelay_WithAJitteredHalf_UpToTheLongest()
    {
        var policy = StoreRetryPolicy.PostgreSql with { FirstDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(100) };
        var delays = Enumerable.Range(0, 200).Select(_ => policy.DelayBefore(0)).ToList();
        delays.Should().OnlyContain(d => d >= TimeSpan.FromMilliseconds(10) && d <= TimeSpan.FromMilliseconds(20));
        delays.Distinct().Should().HaveCountGreaterThan(1, "the wait is jittered");
        policy.DelayBefore(1).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(20)).And.BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(40));
        policy.DelayBefore(50).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(50)).And.BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(100));
    }

    private static PostgresException Conflict(string sqlState) => new("test conflict", "ERROR", "ERROR", sqlState);

    private Task WaitForBackOffAsync() =>
        Eventually.WaitAsync(() => Task.FromResult(_clock.ActiveTimers), armed => armed == 1, Eventually.DefaultDeadline, "the back-off before the run again");
}
