using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Tcm.NotificationServer.Store;

/// <summary>
/// The single writer of the store. Operations are queued in a channel and drained by one loop that runs as many as are
/// waiting (up to <see cref="MaxBatch"/>) in one transaction, each in its own savepoint so one failing operation does not
/// undo the others. An operation's task completes only after its transaction committed: callers that acknowledge
/// something to an agent await it first.
/// </summary>
internal sealed partial class SqliteWriteBatcher : IAsyncDisposable
{
    /// <summary>Most operations in one transaction.</summary>
    public const int MaxBatch = 2000;

    private readonly SqliteConnection _connection;
    private readonly ILogger _logger;
    private readonly Channel<WriteOperation> _queue = System.Threading.Channels.Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private long _transactions;
    private long _operations;

    public SqliteWriteBatcher(SqliteConnection connection, ILogger logger)
    {
        _connection = connection;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Transactions committed so far.</summary>
    public long TransactionCount => Interlocked.Read(ref _transactions);

    /// <summary>Operations run so far.</summary>
    public long OperationCount => Interlocked.Read(ref _operations);

    /// <summary>Queues an operation; the task completes with its result once the batch it ran in is committed.</summary>
    public Task<T> WriteAsync<T>(Func<WriteContext, T> operation)
    {
        var item = new WriteOperation<T>(operation);
        if (!_queue.Writer.TryWrite(item))
        {
            return Task.FromException<T>(new ObjectDisposedException(nameof(SqliteWriteBatcher), "The store is closed."));
        }

        return item.Task;
    }

    /// <summary>Queues an operation without a result.</summary>
    public Task WriteAsync(Action<WriteContext> operation) => WriteAsync(ctx =>
    {
        operation(ctx);
        return true;
    });

    /// <summary>Queues an operation nobody waits for; a failure is logged.</summary>
    public void Post(Action<WriteContext> operation, string what)
    {
        var task = WriteAsync(operation);
        if (task.IsCompleted && !task.IsFaulted)
        {
            return;
        }

        _ = task.ContinueWith(
            static (t, state) =>
            {
                var (logger, description) = ((ILogger, string))state!;
                Log.PostedWriteFailed(logger, description, t.Exception!.GetBaseException());
            },
            (_logger, what),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task RunAsync()
    {
        using var context = new WriteContext(_connection);
        var batch = new List<WriteOperation>(64);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            Exception? commitError = null;
            try
            {
                using var transaction = _connection.BeginTransaction();
                context.Begin(transaction);
                while (batch.Count < MaxBatch && reader.TryRead(out var operation))
                {
                    batch.Add(operation);
                    transaction.Save("op");
                    // why: any failure belongs to the caller that queued the operation, not to the batch.
                    try
                    {
                        operation.Run(context);
                        transaction.Release("op");
                    }
                    catch (Exception ex)
                    {
                        transaction.Rollback("op");
                        transaction.Release("op");
                        operation.Error = ex;
                    }
                }

                transaction.Commit();
                Interlocked.Increment(ref _transactions);
                Interlocked.Add(ref _operations, batch.Count);
            }
            catch (SqliteException ex)
            {
                commitError = ex;
                Log.BatchFailed(_logger, batch.Count, ex);
            }
            finally
            {
                context.End();
            }

            foreach (var operation in batch)
            {
                operation.Complete(commitError);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private abstract class WriteOperation
    {
        public Exception? Error { get; set; }

        public abstract void Run(WriteContext context);

        public abstract void Complete(Exception? commitError);
    }

    private sealed class WriteOperation<T>(Func<WriteContext, T> operation) : WriteOperation
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _completion.Task;

        public override void Run(WriteContext context) => _result = operation(context);

        public override void Complete(Exception? commitError)
        {
            if (commitError is not null || Error is not null)
            {
                _completion.TrySetException(commitError ?? Error!);
            }
            else
            {
                _completion.TrySetResult(_result!);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Error, Message = "A store transaction of {Count} operations failed to commit")]
        public static partial void BatchFailed(ILogger logger, int count, Exception exception);

        [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "A background store write failed: {What}")]
        public static partial void PostedWriteFailed(ILogger logger, string what, Exception exception);
    }
}
