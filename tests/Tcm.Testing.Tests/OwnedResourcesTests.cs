namespace Tcm.Testing.Tests;

public sealed class OwnedResourcesTests
{
    [Fact]
    public async Task Dispose_DisposesEachOnce_NewestFirst_AsyncAndSync()
    {
        var disposed = new List<string>();
        var owned = new OwnedResources();
        var server = owned.Own(new AsyncResource("server", disposed));
        owned.Own(new SyncResource("agent", disposed));
        owned.Own(new AsyncResource("browser", disposed));

        await owned.DisposeAsync();
        await owned.DisposeAsync();

        disposed.Should().Equal("browser", "agent", "server");
        server.Name.Should().Be("server", "Own hands back what it was given");
    }

    [Fact]
    public async Task Dispose_StopsAtTheFirstThatThrows_AndLeavesTheOlderOnesForAnotherDispose()
    {
        var disposed = new List<string>();
        var owned = new OwnedResources();
        owned.Own(new AsyncResource("server", disposed));
        owned.Own(new AsyncResource("broken", disposed, Fail: true));

        await FluentActions.Awaiting(() => owned.DisposeAsync().AsTask()).Should().ThrowAsync<InvalidOperationException>();
        disposed.Should().Equal("broken");

        await owned.DisposeAsync();
        disposed.Should().Equal("broken", "server");
    }

    [Fact]
    public void Own_RefusesWhatCannotBeDisposed() =>
        FluentActions.Invoking(() => new OwnedResources().Own(new object())).Should().Throw<ArgumentException>().WithMessage("*not disposable*");

    private sealed record AsyncResource(string Name, List<string> Disposed, bool Fail = false) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            Disposed.Add(Name);
            return Fail ? throw new InvalidOperationException("dispose failed") : ValueTask.CompletedTask;
        }
    }

    private sealed record SyncResource(string Name, List<string> Disposed) : IDisposable
    {
        public void Dispose() => Disposed.Add(Name);
    }
}
