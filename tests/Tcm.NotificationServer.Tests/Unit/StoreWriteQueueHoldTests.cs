using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>
/// The writer's hold (what the Notification Server uses while a fan-out is delivered): writes that may wait are held while the process
/// is busy, end the hold when another write comes, keep their queue order, are bounded by the longest hold, and are followed by the
/// store's work after a held batch. On an in-memory SQLite database; no test waits on the clock for its outcome.
/// </summary>
public sealed class StoreWriteQueueHoldTests : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly SqliteConnection _connection = new("Data Source=:memory:");
    private readonly SqliteStatements _statements;
    private readonly StoreWriteQueue<SqliteStatements> _queue;

    public StoreWriteQueueHoldTests()
    {
        _connection.Open();
        _statements = new SqliteStatements(_connection);
        _statements.Execute("CREATE TABLE t(n INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL)");
        _queue = new StoreWriteQueue<SqliteStatements>(_connection, _statements, transaction => _statements.Transaction = (SqliteTransaction?)transaction,
            maxBatch: 100, NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await _queue.DisposeAsync();
        _statements.Dispose();
        await _connection.DisposeAsync();
    }

    [Fact]
    public async Task AWriteThatMayWait_IsNotRunWhileBusy_AndCommitsOnceTheHoldEnds()
    {
        var (busy, held) = await HeldResultAsync(asked: 3);

        held.IsCompleted.Should().BeFalse("the writer was told three times that the process is busy");
        Keys().Should().BeEmpty();
        busy.On = false;
        (await held.WaitAsync(Deadline)).Should().Be(1);
        Keys().Should().Equal("result");
    }

    [Fact]
    public async Task AnotherWrite_EndsTheHold_AndBothCommitInQueueOrder()
    {
        var (busy, held) = await HeldResultAsync(asked: 1);
        var urgent = _queue.WriteAsync(s => s.Execute("INSERT INTO t(k) VALUES('pushes')"));

        await Task.WhenAll(held, urgent).WaitAsync(Deadline);
        busy.On.Should().BeTrue("the hold ended for the other write, not because the process was idle");
        Keys().Should().Equal("result", "pushes");
    }

    [Fact]
    public async Task AHold_LastsAtMostTheLongestHold_EvenWhileStillBusy()
    {
        var busy = new Busy(on: true);
        _queue.HoldWhile(busy.IsOn, TimeSpan.FromMilliseconds(20));

        var held = _queue.WriteWhenIdleAsync(s => s.Execute("INSERT INTO t(k) VALUES('result')"));

        (await held.WaitAsync(Deadline)).Should().Be(1);
        busy.On.Should().BeTrue();
        Keys().Should().Equal("result");
    }

    [Fact]
    public async Task AfterAHeldBatch_TheStoresWorkIsGivenItsCount_AndNotAfterOneThatWasNotHeld()
    {
        var busy = new Busy(on: false);
        var after = new List<int>();
        _queue.HoldWhile(busy.IsOn, TimeSpan.FromHours(1), count =>
        {
            lock (after)
            {
                after.Add(count);
            }
        });

        await _queue.WriteWhenIdleAsync(s => s.Execute("INSERT INTO t(k) VALUES('idle')")).WaitAsync(Deadline);
        busy.On = true;
        var writes = Enumerable.Range(0, 3).Select(i => _queue.WriteWhenIdleAsync(s => s.Execute("INSERT INTO t(k) VALUES(@p0)", $"r{i}"))).ToList();
        busy.ForgetAsked();

        // why two: the second ask follows a look at the queue made after all three were queued, so the held batch has them all.
        await busy.AskedAtLeastAsync(2);
        busy.On = false;
        await Task.WhenAll(writes).WaitAsync(Deadline);
        await _queue.WriteAsync(_ => 0).WaitAsync(Deadline);

        lock (after)
        {
            after.Should().Equal([3], "one held batch of the three results; the lone write on an idle store was not held");
        }
    }

    [Fact]
    public void HoldWhile_RefusesANegativeLongestHold() =>
        FluentActions.Invoking(() => _queue.HoldWhile(() => true, TimeSpan.FromMilliseconds(-1))).Should().Throw<ArgumentOutOfRangeException>();

    // A busy process and a result's write the writer has held for it (asked whether it is busy at least that often).
    private async Task<(Busy Busy, Task<int> Held)> HeldResultAsync(int asked)
    {
        var busy = new Busy(on: true);
        _queue.HoldWhile(busy.IsOn, TimeSpan.FromHours(1));
        var held = _queue.WriteWhenIdleAsync(s => s.Execute("INSERT INTO t(k) VALUES('result')"));
        await busy.AskedAtLeastAsync(asked);
        return (busy, held);
    }

    private List<string> Keys() => _statements.Query("SELECT k FROM t ORDER BY n", r => r.GetString(0));

    /// <summary>A switchable "busy" that counts how often the writer asked it.</summary>
    private sealed class Busy(bool on)
    {
        private readonly SemaphoreSlim _asked = new(0);
        private volatile bool _on = on;

        public bool On
        {
            get => _on;
            set => _on = value;
        }

        public bool IsOn()
        {
            _asked.Release();
            return _on;
        }

        public void ForgetAsked()
        {
            while (_asked.Wait(0))
            {
            }
        }

        public async Task AskedAtLeastAsync(int times)
        {
            for (var i = 0; i < times; i++)
            {
                (await _asked.WaitAsync(Deadline)).Should().BeTrue("the writer asks whether the process is busy while it holds a write");
            }
        }
    }
}
