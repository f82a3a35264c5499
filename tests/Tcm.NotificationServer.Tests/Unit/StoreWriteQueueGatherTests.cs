namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>
/// The single writer's gather window (the Notification Server's store runs with one): writes that find others waiting wait for
/// more and share one commit; a lone write on a quiet store does not wait.
/// </summary>
public sealed class StoreWriteQueueGatherTests : IAsyncDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(4);

    private readonly TimerCountingTimeProvider _clock = new();
    private readonly MemoryWriter _store;

    public StoreWriteQueueGatherTests() => _store = new MemoryWriter(gatherWindow: Window, gatherClock: _clock);

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    [Fact]
    public async Task WritesThatFoundOthersWaiting_WaitTheWindow_AndWritesArrivingMeanwhileShareTheirCommit()
    {
        var first = await _store.HoldAsync("first");

        // Queued while the writer is busy: once it is free, it finds both waiting, so it waits for more.
        var queuedWhileBusy = new[] { Insert("b"), Insert("c") };
        await first.ReleaseAsync();
        var transactionsBefore = _store.Writer.TransactionCount;
        await Eventually.WaitAsync(() => Task.FromResult(_clock.ActiveTimers), armed => armed == 1, Eventually.DefaultDeadline, "the gather window to start");
        queuedWhileBusy.Should().OnlyContain(t => !t.IsCompleted, "nothing commits before the window ends");

        var arrivedInTheWindow = Insert("d");
        _clock.Advance(Window);
        await Task.WhenAll([.. queuedWhileBusy, arrivedInTheWindow]).WaitAsync(Eventually.DefaultDeadline);

        (_store.Writer.TransactionCount - transactionsBefore).Should().Be(1, "the writes found waiting and the one that came in the window share one commit");
        _store.Values().Should().HaveCount(4);
    }

    [Fact]
    public async Task ALoneWrite_IsCommittedAtOnce_WithoutWaitingTheWindow()
    {
        // The fake clock never moves: a lone write that waited the window would never commit.
        var inserted = await Insert("alone").WaitAsync(Eventually.DefaultDeadline);

        inserted.Should().Be(1);
        _clock.ActiveTimers.Should().Be(0);
    }

    private Task<int> Insert(string value) => _store.Insert(value);
}
