using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>The Notification Server store's single writer (a <c>StoreWriteQueue</c>) on its real database file.</summary>
public sealed class TcmStoreWriterTests : IAsyncDisposable
{
    private readonly TemporaryStore _temporary = new("ns-writer");

    private TcmStore Store => _temporary.Store;

    public ValueTask DisposeAsync() => _temporary.DisposeAsync();

    [Fact]
    public Task ManySmallWrites_AreBatchedIntoFewTransactions() => StoreWriterChecks.ManySmallWritesShareTransactionsAsync(Store);

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
    public async Task FailingOperation_FaultsOnlyItself() =>
        (await StoreWriterChecks.FailingWriteFaultsOnlyItselfAsync(Store)).Should().BeOfType(Store.IsPostgres ? typeof(Npgsql.PostgresException) : typeof(SqliteException));

    [Fact]
    public async Task Result_IsReturnedAfterCommit()
    {
        var count = await Store.Writer.WriteAsync(ctx => ctx.Query("SELECT COUNT(*) FROM agents", r => r.GetInt64(0)).Single());
        count.Should().Be(0);
    }
}
