namespace Tcm.Hosting.Storage;

/// <summary>The writes a <see cref="StoreWriteQueue{TContext}"/> holds until their transaction's fate is known.</summary>
public sealed partial class StoreWriteQueue<TContext>
{
    private abstract class Write
    {
        /// <summary>Queued with <see cref="WriteWhenIdleAsync"/>: it may wait while the queue is held (<see cref="HoldWhile"/>).</summary>
        public bool MayWait { get; init; }

        /// <summary>When a write that may wait was queued (the gather clock's timestamp); 0 for the others.</summary>
        public long QueuedAt { get; init; }

        /// <summary>
        /// Runs the write (again, when its transaction is retried); false when it threw (the exception is kept for its caller). An
        /// exception <paramref name="conflict"/> names is the transaction's, not the write's: it is thrown on, so the batch is retried.
        /// <paramref name="ended"/> (if any) runs when the write returned, as part of it: it sends what the write held back.
        /// </summary>
        public abstract bool Run(TContext context, Func<Exception, bool>? conflict, Action? ended);

        /// <summary>After the transaction: the caller's result or exception, or the transaction's failure.</summary>
        public abstract void Complete(Exception? transactionFailure);
    }

    private sealed class Write<T>(Func<TContext, T> write) : Write
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _error;

        public Task<T> Task => _completion.Task;

        public override bool Run(TContext context, Func<Exception, bool>? conflict, Action? ended)
        {
            _error = null;
            try
            {
                _result = write(context);
                ended?.Invoke();
                return true;
            }
            catch (Exception ex) when (conflict is null || !conflict(ex))
            {
                // why: any other exception of the caller's write belongs to the caller; the batch goes on without its changes.
                _error = ex;
                return false;
            }
        }

        public override void Complete(Exception? transactionFailure)
        {
            if ((transactionFailure ?? _error) is { } error)
            {
                _completion.TrySetException(error);
            }
            else
            {
                _completion.TrySetResult(_result!);
            }
        }
    }
}
