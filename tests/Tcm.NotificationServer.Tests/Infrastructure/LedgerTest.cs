using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>
/// What the tests of the action ledger and of what writes through it share: an <see cref="ActionLedger"/> over a real store in
/// a temporary folder (gone after the test), the moment their actions are created at, and the writes and reads they all make.
/// </summary>
public abstract class LedgerTest : IAsyncDisposable
{
    /// <summary>When the tests' actions are created (2026-01-01T00:00:00Z, Unix milliseconds); later moments are offsets from it.</summary>
    protected const long T0 = 1_767_225_600_000;

    private readonly TemporaryStore _temporary;

    /// <param name="prefix">The temporary folder's name prefix, naming the test class.</param>
    protected LedgerTest(string prefix)
    {
        _temporary = new TemporaryStore(prefix);
        Ledger = new ActionLedger(Store);
    }

    private protected TcmStore Store => _temporary.Store;

    private protected ActionLedger Ledger { get; }

    public virtual ValueTask DisposeAsync() => _temporary.DisposeAsync();

    /// <summary>Runs <paramref name="write"/> on the store's single writer and waits for its commit.</summary>
    private protected Task WriteAsync(Action<WriteContext> write) => Store.Writer.WriteAsync(write);

    /// <summary>The action as the admin API reads it (agent names left empty).</summary>
    private protected ActionStatus Find(string actionId) => Ledger.Find(actionId, _ => "")!;
}
