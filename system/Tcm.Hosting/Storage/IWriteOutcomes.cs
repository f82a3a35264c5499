namespace Tcm.Hosting.Storage;

/// <summary>
/// What a write context of <see cref="StoreWriteQueue{TContext}"/> may implement to learn what became of the writes it saw:
/// something a write recorded may be published once its transaction committed, never before, and never when its write was
/// rolled back. The calls come on the writer's loop, in this order per batch: <see cref="WriteStarting"/> (and perhaps
/// <see cref="WriteUndone"/>) for each write, <see cref="Committing"/> when it is to commit, then <see cref="Committed"/> or <see cref="Abandoned"/>.
/// </summary>
public interface IWriteOutcomes
{
    /// <summary>A write of the batch is about to run.</summary>
    void WriteStarting();

    /// <summary>The write that just ran threw: its changes were rolled back, the batch goes on.</summary>
    void WriteUndone();

    /// <summary>
    /// Every write of the batch ran and its transaction is about to commit: the last moment to read, inside the transaction, what the
    /// writes left (a failure here fails the batch). Nothing to do by default.
    /// </summary>
    void Committing()
    {
    }

    /// <summary>The batch's transaction committed. Must not throw or block: the writer waits for it.</summary>
    void Committed();

    /// <summary>The batch's transaction failed as a whole: nothing of it was kept.</summary>
    void Abandoned();
}
