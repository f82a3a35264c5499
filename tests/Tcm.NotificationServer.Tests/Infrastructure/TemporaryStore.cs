using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>A <see cref="TcmStore"/> on its real database file in a new temporary folder; both are gone on dispose.</summary>
internal sealed class TemporaryStore : IAsyncDisposable
{
    private readonly TemporaryFolder _folder;

    public TemporaryStore(string prefix)
    {
        _folder = new TemporaryFolder(prefix);
        Store = new TcmStore(_folder.Path, NullLogger.Instance);
    }

    public TcmStore Store { get; }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        _folder.Dispose();
    }
}
