using System.Data.Common;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>What the store's single writer guarantees on either engine, checked by the SQLite and the PostgreSQL store tests alike.</summary>
internal static class StoreWriterChecks
{
    /// <summary>2,000 writes queued together share far fewer transactions, and all are kept.</summary>
    public static async Task ManySmallWritesShareTransactionsAsync(TcmStore store)
    {
        var before = store.Writer.TransactionCount;
        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i =>
            store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES(@p0, @p1)", $"k{i}", "v"))));

        (store.Writer.TransactionCount - before).Should().BeLessThan(2000 / 10, "waiting writes share a transaction");
        store.Query("SELECT COUNT(*) FROM settings WHERE key LIKE 'k%'", r => r.GetInt64(0)).Single().Should().Be(2000);
    }

    /// <summary>A write that throws is rolled back to its savepoint and its caller gets the error; the others of its batch commit.</summary>
    public static async Task<DbException> FailingWriteFaultsOnlyItselfAsync(TcmStore store)
    {
        await store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES('dup', '1')"));
        var good1 = store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES('good1', '1')"));
        var bad = store.Writer.WriteAsync(ctx =>
        {
            ctx.Execute("INSERT INTO settings(key, value) VALUES('partial', '1')");
            return ctx.Execute("INSERT INTO settings(key, value) VALUES('dup', '2')");
        });
        var good2 = store.Writer.WriteAsync(ctx => ctx.Execute("INSERT INTO settings(key, value) VALUES('good2', '1')"));

        var thrown = (await FluentActions.Awaiting(() => bad).Should().ThrowAsync<DbException>()).Which;
        (await good1).Should().Be(1);
        (await good2).Should().Be(1);
        store.GetSetting("partial").Should().BeNull("a failing write is rolled back to its savepoint");
        store.GetSetting("dup").Should().Be("1");
        return thrown;
    }
}
