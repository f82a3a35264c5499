namespace Tcm.Hosting.Listeners;

/// <summary>What <see cref="AdmissionGate.EnterAsync"/> decided.</summary>
public enum AdmissionOutcome
{
    /// <summary>Admitted: the caller does its work and then calls <see cref="AdmissionGate.Exit"/>.</summary>
    Admitted,

    /// <summary>Refused at once: the queue was full.</summary>
    QueueFull,

    /// <summary>Refused after waiting in the queue for the gate's queue timeout.</summary>
    TimedOut,

    /// <summary>The caller gave up while waiting (the connection closed).</summary>
    Cancelled,
}

/// <summary>
/// Admits work (a TLS handshake, a channel's upgrade and hello) at the rate the server finishes it: at most
/// <c>maxConcurrent</c> at once, up to <c>maxQueued</c> more waiting in arrival order, each for at most <c>queueTimeout</c>.
/// Work beyond that is refused at once with a hint of when to come back (<see cref="RetryAfter"/>), instead of every piece of a
/// storm starting together and timing out together. Queued entries share one timer (all wait equally long, so the oldest
/// expires first). Thread-safe.
/// </summary>
public sealed class AdmissionGate : IDisposable
{
    private static readonly TimeSpan MinRetryAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    private readonly Lock _lock = new();
    private readonly DeadlineQueue<Waiter> _queue;
    private readonly TimeProvider _time;
    private readonly int _maxConcurrent;
    private readonly int _maxQueued;
    private readonly TimeSpan _queueTimeout;
    private int _active;
    private long _started;
    private long _finished;
    private long _failed;
    private long _refused;
    private long _timedOut;
    private long _abandoned;
    private long _expired;
    private long _rateWindowStart;
    private int _rateWindowCount;
    private double _finishRate;

    /// <summary>A gate named <paramref name="stage"/> (a metric label: <c>tls</c>, <c>upgrade</c>).</summary>
    public AdmissionGate(string stage, int maxConcurrent, int maxQueued, TimeSpan queueTimeout, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stage);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrent, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueued);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(queueTimeout, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(time);
        Stage = stage;
        _maxConcurrent = maxConcurrent;
        _maxQueued = maxQueued;
        _queueTimeout = queueTimeout;
        _time = time;
        _rateWindowStart = time.GetTimestamp();
        _queue = new DeadlineQueue<Waiter>(queueTimeout, time, ExpireQueued);
    }

    /// <summary>The stage this gate admits (<c>tls</c>, <c>upgrade</c>).</summary>
    public string Stage { get; }

    /// <summary>Admitted and not yet exited.</summary>
    public int Active { get { lock (_lock) { return _active; } } }

    /// <summary>Waiting in the queue.</summary>
    public int Queued { get { lock (_lock) { return _queue.Count; } } }

    /// <summary>Admitted so far (at once or from the queue).</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Exited as done.</summary>
    public long Finished => Interlocked.Read(ref _finished);

    /// <summary>Exited as failed (e.g. a TLS handshake that failed).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Refused at once because the queue was full.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Refused after waiting the whole queue timeout.</summary>
    public long TimedOut => Interlocked.Read(ref _timedOut);

    /// <summary>Left the queue because the caller gave up (its connection closed) before a place was free.</summary>
    public long Abandoned => Interlocked.Read(ref _abandoned);

    /// <summary>Admitted, and given back by a deadline before the work said it was done (<see cref="ExitExpired"/>).</summary>
    public long Expired => Interlocked.Read(ref _expired);

    /// <summary>
    /// When a refused caller should come back: the queue divided by the rate work finished at lately (1 to 60 seconds); the queue
    /// timeout when nothing has finished yet to measure a rate by.
    /// </summary>
    public TimeSpan RetryAfter
    {
        get
        {
            lock (_lock)
            {
                if (_finishRate <= 0)
                {
                    return Clamp(_queueTimeout);
                }

                return Clamp(TimeSpan.FromSeconds((_queue.Count + _active + 1) / _finishRate));
            }
        }
    }

    /// <summary>Waits for a place; every <see cref="AdmissionOutcome.Admitted"/> must be followed by one <see cref="Exit"/>.</summary>
    public ValueTask<AdmissionOutcome> EnterAsync(CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_active < _maxConcurrent && _queue.Count == 0)
            {
                _active++;
                _started++;
                return ValueTask.FromResult(AdmissionOutcome.Admitted);
            }

            if (_queue.Count >= _maxQueued)
            {
                _refused++;
                return ValueTask.FromResult(AdmissionOutcome.QueueFull);
            }

            waiter = new Waiter();
            waiter.Node = _queue.Add(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.UnsafeRegister(static (state, _) =>
            {
                var (gate, w) = ((AdmissionGate, Waiter))state!;
                gate.Cancel(w);
            }, (this, waiter));
        }

        return new ValueTask<AdmissionOutcome>(waiter.Completion.Task);
    }

    /// <summary>Ends an admitted piece of work (<paramref name="finished"/>: done, else failed) and admits the oldest waiting one.</summary>
    public void Exit(bool finished) => Leave(finished ? Ending.Finished : Ending.Failed);

    /// <summary>
    /// Ends an admitted piece of work that is not done but held its place past a deadline (counted in <see cref="Expired"/>, not
    /// as failed), and admits the oldest waiting one.
    /// </summary>
    public void ExitExpired() => Leave(Ending.Expired);

    private void Leave(Ending ending)
    {
        Waiter? next = null;
        lock (_lock)
        {
            _ = ending switch
            {
                Ending.Finished => ++_finished,
                Ending.Failed => ++_failed,
                _ => ++_expired,
            };

            CountFinish();
            if (_queue.TryTakeOldest(out var oldest))
            {
                next = oldest;
                _started++;
            }
            else
            {
                _active--;
            }
        }

        next?.Complete(AdmissionOutcome.Admitted);
    }

    /// <inheritdoc/>
    public void Dispose() => _queue.Dispose();

    private void Cancel(Waiter waiter)
    {
        lock (_lock)
        {
            if (!_queue.Remove(waiter.Node))
            {
                return;
            }

            _abandoned++;
        }

        waiter.Complete(AdmissionOutcome.Cancelled);
    }

    private void ExpireQueued()
    {
        var expired = new List<Waiter>();
        lock (_lock)
        {
            _queue.TakeExpired(expired);
            _timedOut += expired.Count;
        }

        foreach (var waiter in expired)
        {
            waiter.Complete(AdmissionOutcome.TimedOut);
        }
    }

    /// <summary>Keeps the rate work finished at, over windows of at least a second.</summary>
    private void CountFinish()
    {
        _rateWindowCount++;
        var elapsed = _time.GetElapsedTime(_rateWindowStart);
        if (elapsed >= TimeSpan.FromSeconds(1))
        {
            _finishRate = _rateWindowCount / elapsed.TotalSeconds;
            _rateWindowCount = 0;
            _rateWindowStart = _time.GetTimestamp();
        }
    }

    private static TimeSpan Clamp(TimeSpan value) =>
        value < MinRetryAfter ? MinRetryAfter : value > MaxRetryAfter ? MaxRetryAfter : TimeSpan.FromSeconds(Math.Ceiling(value.TotalSeconds));

    private enum Ending
    {
        Finished,
        Failed,
        Expired,
    }

    private sealed class Waiter
    {
        public LinkedListNode<DeadlineQueue<Waiter>.Due>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        public TaskCompletionSource<AdmissionOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Complete(AdmissionOutcome outcome)
        {
            Registration.Unregister();
            Completion.TrySetResult(outcome);
        }
    }
}
