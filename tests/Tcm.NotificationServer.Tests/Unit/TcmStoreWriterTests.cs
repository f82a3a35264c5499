using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>The Notification Server store's single writer (a <c>StoreWriteQueue</c>) on its real database file.</summary>
public sealed class TcmStoreWriterTests : IAsyncDisposable
{
    private readonly TemporaryStore _temporary = new("ns-writer");

    private TcmStore Store => _temporary.Store;

    public ValueTask DisposeAsync() => _temporary.DisposeAsync();

    [Fact]
    public async Task ManySmallWrites_AreBatchedIntoFewTransactions()
    {
        var before = Store.Writer.TransactionCount;
        var writes = Enumerable.Range(0, 2000).Select(i => Store.Writer.WriteAsync(ctx =>
            ctx.Execute("INSERT INTO settings(key, value) VALUES(@p0, @p1)", $"k{i}", "v"))).ToList();
        await Task.WhenAll(writes);

        var transactions = Store.Writer.TransactionCount - before;
        transactions.Should().BeLessThan(2000 / 10, "waiting operations share a transaction");
        Store.Query("SELECT COUNT(*) FROM settings WHERE key LIKE 'k%'", r => r.GetInt64(0)).Single().Should().Be(2000);
    }

    [Fact]
    public async Task CompletedWrite_IsVisibleToAnotherConnection()
    {
        await Store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES('committed', 'yes')"));
        using var reader = Store.OpenRead();
        using var command = reader.CreateCommand();
        command.CommandText = "SELECT value FROM settings WHERE key='committed'";
        command.ExecuteScalar().Should().Be("yes");
    }

    [Fact]
    public async Task FailingOperation_FaultsOnlyItself()
    {
        await Store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES('dup', '1')"));
        var good1 = Store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES('good1', '1')"));
        var bad = Store.Writer.WriteAsync(ctx =>
        {
            ctx.Execute("INSERT INTO settings(key, value) VALUES('partial', '1')");
            return ctx.Execute("INSERT INTO settings(key, value) VALUES('dup', '2')");
        });
        var good2 = Store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES('good2', '1')"));

        await FluentActions.Awaiting(() => bad).Should().ThrowAsync<System.Data.Common.DbException>();
        (await good1).Should().Be(1);
        (await good2).Should().Be(1);
        Store.GetSetting("partial").Should().BeNull("a failing operation is rolled back to its savepoint");
        Store.GetSetting("dup").Should().Be("1");
    }

    [Fact]
    public async Task Result_IsReturnedAfterCommit()
    {
        var count = await Store.Writer.WriteAsync(ctx => ctx.Query("SELECT COUNT(*) FROM agents", r => r.GetInt64(0)).Single());
        count.Should().Be(0);
    }
}
