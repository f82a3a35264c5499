using System.Collections.Concurrent;

namespace Tcm.LoadTests.Harness;

/// <summary>Where a scenario is in its run.</summary>
internal enum ScenarioPhase
{
    Pending,
    Init,
    WarmUp,
    Measuring,
    Clean,
    Done,
}

/// <summary>A live view of one scenario, for the progress display.</summary>
internal sealed record ScenarioProgress(
    string Name,
    ScenarioPhase Phase,
    string Load,
    double ElapsedSeconds,
    long Ok,
    long Fail,
    double Rps,
    double P99Ms,
    double Connections);

/// <summary>
/// Runs one scenario: init, warm-up, the load simulations with precise scheduling, clean; and samples its time series.
/// Closed-model copies are cancelled when the schedule lowers their number or ends; open-model iterations still running at
/// the end get <see cref="ScenarioProps.StopGrace"/> to finish. Iterations cut short by the stop are not measured.
/// </summary>
internal sealed class ScenarioExecution
{
    private static readonly TimeSpan BudgetWait = TimeSpan.FromMilliseconds(20);

    private readonly ScenarioProps _props;
    private readonly TimeProvider _time;
    private readonly List<TimeSeriesPoint> _series = [];
    private readonly Lock _seriesLock = new();
    private readonly List<(CancellationTokenSource Cts, Task Task)> _copies = [];
    private readonly List<(CancellationTokenSource Cts, Task Task)> _stoppedCopies = [];
    private readonly ConcurrentDictionary<long, Task> _injections = new();
    private long _measureStart;
    private long _lastSample;
    private long _measureEnd;
    private int _inFlight;
    private int _copyCount;
    private long _nextInjection;
    private volatile string _load = "";
    private volatile ScenarioPhase _phase = ScenarioPhase.Pending;
    private SeriesSample? _lastInterval;

    public ScenarioExecution(ScenarioProps props, TimeProvider time, CancellationToken runToken, Action<string> stopTest)
    {
        _props = props;
        _time = time;
        Runtime = new ScenarioRuntime(props.Name, time, runToken, stopTest);
    }

    public ScenarioRuntime Runtime { get; }

    public ScenarioPhase Phase => _phase;

    /// <summary>Runs the scenario's init function.</summary>
    public async Task InitAsync()
    {
        _phase = ScenarioPhase.Init;
        if (_props.Init is { } init)
        {
            await init(new ScenarioInitContext(Runtime, Runtime.StopToken)).ConfigureAwait(false);
        }
    }

    /// <summary>Runs warm-up and then the measured load.</summary>
    public async Task RunLoadAsync()
    {
        if (_props.WarmUpDuration > TimeSpan.Zero && !Runtime.StopToken.IsCancellationRequested)
        {
            _phase = ScenarioPhase.WarmUp;
            await ExecuteLoadAsync(_props.WarmUpDuration).ConfigureAwait(false);
            Runtime.ResetStatistics();
        }

        _measureStart = _time.GetTimestamp();
        Volatile.Write(ref _lastSample, _measureStart);
        _phase = ScenarioPhase.Measuring;
        try
        {
            if (!Runtime.StopToken.IsCancellationRequested)
            {
                await ExecuteLoadAsync(_props.MaxDuration).ConfigureAwait(false);
            }
        }
        finally
        {
            _measureEnd = _time.GetTimestamp();
            Sample();
        }
    }

    /// <summary>Runs the scenario's clean function (given its own minute, even when the run was cancelled).</summary>
    public async Task CleanAsync(CancellationToken cancellationToken)
    {
        _phase = ScenarioPhase.Clean;
        try
        {
            if (_props.Clean is { } clean)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromMinutes(1));
                await clean(new ScenarioInitContext(Runtime, timeout.Token)).ConfigureAwait(false);
            }
        }
        finally
        {
            _phase = ScenarioPhase.Done;
        }
    }

    /// <summary>Takes one time-series point, if measuring. Called every second by the runner and once at the end.</summary>
    public void Sample()
    {
        if (_phase is not (ScenarioPhase.Measuring or ScenarioPhase.Clean or ScenarioPhase.Done) || _measureStart == 0)
        {
            return;
        }

        lock (_seriesLock)
        {
            var now = _measureEnd != 0 ? _measureEnd : _time.GetTimestamp();
            var last = Volatile.Read(ref _lastSample);
            if (now <= last)
            {
                return;
            }

            var interval = _time.GetElapsedTime(last, now);
            if (_measureEnd != 0 && _series.Count > 0 && interval < TimeSpan.FromMilliseconds(50))
            {
                return;
            }

            Volatile.Write(ref _lastSample, now);
            var iterations = Runtime.Iterations.TakeInterval();
            _lastInterval = iterations;
            _series.Add(new TimeSeriesPoint
            {
                Seconds = _time.GetElapsedTime(_measureStart, now).TotalSeconds,
                IntervalSeconds = interval.TotalSeconds,
                Connections = CurrentConnections(),
                WorkingSetBytes = Environment.WorkingSet,
                ManagedHeapBytes = GC.GetTotalMemory(false),
                Iterations = iterations,
                Steps = Runtime.Steps.Select(s => s.TakeInterval()).ToList(),
            });
        }
    }

    /// <summary>A live view for the progress display.</summary>
    public ScenarioProgress Progress()
    {
        var elapsed = _measureStart == 0 ? 0 : _time.GetElapsedTime(_measureStart, _measureEnd != 0 ? _measureEnd : _time.GetTimestamp()).TotalSeconds;
        SeriesSample? last;
        double lastInterval;
        lock (_seriesLock)
        {
            last = _lastInterval;
            lastInterval = _series.Count > 0 ? _series[^1].IntervalSeconds : 1;
        }

        return new ScenarioProgress(
            _props.Name,
            _phase,
            _load,
            elapsed,
            Runtime.Iterations.OkCount,
            Runtime.Iterations.FailCount,
            last is null ? 0 : (last.Ok + last.Fail) / Math.Max(lastInterval, 0.001),
            last?.P99Ms ?? 0,
            CurrentConnections());
    }

    /// <summary>The scenario's statistics (after the run).</summary>
    public ScenarioStats ToStats()
    {
        var end = _measureEnd != 0 ? _measureEnd : _time.GetTimestamp();
        var duration = _measureStart == 0 ? TimeSpan.Zero : _time.GetElapsedTime(_measureStart, end);
        List<TimeSeriesPoint> series;
        lock (_seriesLock)
        {
            series = [.. _series];
        }

        return new ScenarioStats
        {
            Name = _props.Name,
            DurationSeconds = duration.TotalSeconds,
            StopReason = Runtime.StopReason,
            Iterations = Runtime.Iterations.ToStats(duration),
            Steps = Runtime.Steps.Select(s => s.ToStats(duration)).ToList(),
            Gauges = Runtime.Gauges.Snapshot(),
            TimeSeries = series,
        };
    }

    private double CurrentConnections() =>
        Runtime.Gauges.Get(GaugeSet.Connections) ?? Volatile.Read(ref _copyCount) + Volatile.Read(ref _inFlight);

    private async Task ExecuteLoadAsync(TimeSpan limit)
    {
        var scheduler = new LoadScheduler(_props.LoadSimulations);
        var stop = Runtime.StopToken;
        using var injectionsCts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var start = _time.GetTimestamp();
        var copyNumber = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var elapsed = _time.GetElapsedTime(start);
                if (elapsed >= limit)
                {
                    Runtime.Stop($"reached the scenario's time limit of {limit}");
                    break;
                }

                var tick = scheduler.Tick(elapsed);
                _load = tick.Load;
                while (_copies.Count < tick.TargetCopies)
                {
                    StartCopy(scheduler, copyNumber++);
                }

                while (_copies.Count > tick.TargetCopies)
                {
                    StopLastCopy();
                }

                for (long i = 0; i < tick.InjectNow; i++)
                {
                    StartInjection(injectionsCts.Token);
                }

                if (tick.Done)
                {
                    break;
                }

                var wait = tick.NextTick < limit - elapsed ? tick.NextTick : limit - elapsed;
                try
                {
                    await Task.Delay(wait, _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            _load = "stopping";
            while (_copies.Count > 0)
            {
                StopLastCopy();
            }

            await WaitForCopiesAsync().ConfigureAwait(false);
            await WaitForInjectionsAsync(injectionsCts).ConfigureAwait(false);
        }
    }

    private void StartCopy(LoadScheduler scheduler, int number)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(Runtime.StopToken);
        var context = new ScenarioContext(Runtime, number, cts.Token);
        Interlocked.Increment(ref _copyCount);
        var task = Task.Run(() => RunCopyAsync(context, scheduler, cts.Token));
        _copies.Add((cts, task));
    }

    private void StopLastCopy()
    {
        var copy = _copies[^1];
        _copies.RemoveAt(_copies.Count - 1);
        _stoppedCopies.Add(copy);
        copy.Cts.Cancel();
    }

    private async Task WaitForCopiesAsync()
    {
        foreach (var (cts, task) in _stoppedCopies)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException)
            {
                // A cancelled copy is an expected end.
            }
            finally
            {
                cts.Dispose();
            }
        }

        _stoppedCopies.Clear();
    }

    private async Task RunCopyAsync(ScenarioContext context, LoadScheduler scheduler, CancellationToken token)
    {
        try
        {
            while (!token.IsCancellationRequested)
            {
                if (!scheduler.TryTakeIteration())
                {
                    await Task.Delay(BudgetWait, _time, token).ConfigureAwait(false);
                    continue;
                }

                await RunIterationAsync(context, token).ConfigureAwait(false);
                scheduler.IterationCompleted();
                context.InvocationNumber++;
                await Task.Yield();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped by the schedule.
        }
        finally
        {
            Interlocked.Decrement(ref _copyCount);
            await DisposeStateAsync(context.CopyState).ConfigureAwait(false);
            context.CopyState = null;
        }
    }

    private void StartInjection(CancellationToken token)
    {
        var number = _nextInjection++;
        Interlocked.Increment(ref _inFlight);
        var context = new ScenarioContext(Runtime, (int)Math.Min(number, int.MaxValue), token);
        var task = Task.Run(async () =>
        {
            try
            {
                await RunIterationAsync(context, token).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
                _injections.TryRemove(number, out _);
                await DisposeStateAsync(context.CopyState).ConfigureAwait(false);
            }
        });
        _injections.TryAdd(number, task);
    }

    private async Task WaitForInjectionsAsync(CancellationTokenSource injections)
    {
        var pending = _injections.Values.ToArray();
        if (pending.Length == 0)
        {
            return;
        }

        try
        {
            await Task.WhenAll(pending).WaitAsync(_props.StopGrace, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await injections.CancelAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Cancelled iterations are not measured.
        }

        try
        {
            await Task.WhenAll(_injections.Values.ToArray()).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // As above.
        }
    }

    private async Task RunIterationAsync(ScenarioContext context, CancellationToken token)
    {
        var start = _time.GetTimestamp();
        Response response;
        try
        {
            response = await _props.Run(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            response = Response.Fail(Step.Describe(ex));
        }

        if (token.IsCancellationRequested && response.IsError)
        {
            // Failures caused by the stop itself say nothing about the system under test.
            return;
        }

        if (response.IsError)
        {
            Runtime.Iterations.RecordFail(response.Message);
        }
        else
        {
            Runtime.Iterations.RecordOk(_time.GetElapsedTime(start), response.SizeBytes);
        }
    }

    private static async ValueTask DisposeStateAsync(object? state)
    {
        try
        {
            switch (state)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // Closing a connection that already broke is not a result.
        }
    }
}
