namespace Tcm.Hosting.Storage;

/// <summary>
/// What a <see cref="StoreWriteQueue{TContext}"/> hands its per-write savepoints to when its statements go to a database server, where
/// a round trip costs more than the statement it carries (<see cref="PostgresStatements"/>): statements whose outcome nobody reads are
/// held back and sent together with the next one whose outcome is read, or when the write ends, in one round trip. The calls come on
/// the writer's loop: for each write of a batch <see cref="Savepoint"/>, the write, <see cref="EndWrite"/>, perhaps <see cref="RollBack"/>,
/// then <see cref="Release"/>; <see cref="Committing"/> before the commit; <see cref="Abandon"/> when the transaction ends.
/// </summary>
public interface IStatementPipeline
{
    /// <summary>A write of a batch starts: its savepoint, which may travel with the write's first statement.</summary>
    void Savepoint();

    /// <summary>The write returned: sends what it held back. What fails here is the write's failure (it is rolled back alone).</summary>
    void EndWrite();

    /// <summary>The write failed: its changes are undone, those never sent by dropping them.</summary>
    void RollBack();

    /// <summary>The write is done with its savepoint, which may travel with the next statement.</summary>
    void Release();

    /// <summary>The batch is about to commit: sends what is still held (a last release need not go: the commit releases it).</summary>
    void Committing();

    /// <summary>The transaction ended (committed, failed or rolled back): drops whatever is still held.</summary>
    void Abandon();
}
