using Tcm.TaskServer.Store;

namespace Tcm.TaskServer.Tests;

/// <summary>The Task Server store's batched writes, on a temporary SQLite file: all committed, a failing one rolled back alone.</summary>
public sealed class TsStoreWriteTests : IDisposable
{
    private readonly TemporaryFolder _folder = new("ts-unit");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ConcurrentWrites_AreAllCommitted_AndAWriteThatThrowsLeavesNothingBehind()
    {
        using (var store = new TsStore(_folder.Path))
        {
            var writes = Enumerable.Range(0, 300).Select(i => store.WriteAsync(s => s.Execute("INSERT INTO outbox(kind, payload) VALUES(@p0,@p1)", "status", $"item {i}"))).ToList();
            var failing = store.WriteAsync<int>(s =>
            {
                s.Execute("INSERT INTO outbox(kind, payload) VALUES(@p0,@p1)", "status", "half-done");
                throw new ArgumentException("the write's own failure");
            });
            writes.AddRange(Enumerable.Range(300, 300).Select(i => store.WriteAsync(s => s.Execute("INSERT INTO outbox(kind, payload) VALUES(@p0,@p1)", "status", $"item {i}"))));

            (await Task.WhenAll(writes)).Should().OnlyContain(changed => changed == 1);
            await FluentActions.Awaiting(() => failing).Should().ThrowAsync<ArgumentException>().WithMessage("the write's own failure");
            store.Query("SELECT COUNT(*) FROM outbox WHERE payload='half-done'", r => r.GetInt64(0)).Single().Should().Be(0, "a write that threw is rolled back alone");
        }

        using var reopened = new TsStore(_folder.Path);
        reopened.Query("SELECT COUNT(*) FROM outbox", r => r.GetInt64(0)).Single().Should().Be(600, "every completed write was committed before its caller went on");
    }

    [Fact]
    public void AfterDispose_AWriteIsRefused()
    {
        var store = new TsStore(_folder.Path);
        store.Dispose();

        Action write = () => store.WriteAsync(s => 0);

        write.Should().Throw<ObjectDisposedException>();
    }
}
