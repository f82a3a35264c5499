namespace Tcm.LoadTests.Harness;

/// <summary>The result of running a set of scenarios.</summary>
internal sealed record RunResult(IReadOnlyList<ScenarioStats> Scenarios, string? StopReason, TimeSpan Duration);

/// <summary>
/// Runs scenarios side by side, as NBomber's runner does: <c>LoadTestRunner.RegisterScenarios(a, b).RunAsync(ct)</c>.
/// Every scenario's init runs first, then an optional start gate (shards wait for their parent's go), then the loads
/// together, then every clean. The run stops by itself when every scenario's simulations have ended, when a scenario
/// calls <c>StopCurrentTest</c>, when <see cref="WithMaxDuration"/> passes, or when the token is cancelled.
/// </summary>
internal sealed class LoadTestRunner
{
    private readonly IReadOnlyList<ScenarioProps> _scenarios;
    private TimeProvider _time = TimeProvider.System;
    private TimeSpan _sampleInterval = TimeSpan.FromSeconds(1);
    private TimeSpan _maxDuration = TimeSpan.FromMinutes(30);
    private Func<CancellationToken, Task>? _startGate;
    private Action<IReadOnlyList<ScenarioProgress>>? _progress;

    private LoadTestRunner(IReadOnlyList<ScenarioProps> scenarios) => _scenarios = scenarios;

    /// <summary>Starts a run of the given scenarios.</summary>
    public static LoadTestRunner RegisterScenarios(params ScenarioProps[] scenarios)
    {
        if (scenarios.Length == 0)
        {
            throw new ArgumentException("Register at least one scenario.", nameof(scenarios));
        }

        var duplicate = scenarios.GroupBy(s => s.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Scenario name '{duplicate.Key}' is used twice.", nameof(scenarios));
        }

        return new LoadTestRunner(scenarios);
    }

    /// <summary>The clock (tests pass a fake one).</summary>
    public LoadTestRunner WithTimeProvider(TimeProvider time)
    {
        _time = time;
        return this;
    }

    /// <summary>How often the time series is sampled. Default 1 s.</summary>
    public LoadTestRunner WithSampleInterval(TimeSpan interval)
    {
        _sampleInterval = interval;
        return this;
    }

    /// <summary>Hard limit on the whole run (init to clean). Default 30 minutes.</summary>
    public LoadTestRunner WithMaxDuration(TimeSpan max)
    {
        _maxDuration = max;
        return this;
    }

    /// <summary>Awaited after every init and before any load: sharded runs start together.</summary>
    public LoadTestRunner WithStartGate(Func<CancellationToken, Task> gate)
    {
        _startGate = gate;
        return this;
    }

    /// <summary>Called after every sample with a live view of each scenario.</summary>
    public LoadTestRunner WithProgress(Action<IReadOnlyList<ScenarioProgress>> progress)
    {
        _progress = progress;
        return this;
    }

    /// <summary>Runs the scenarios and returns their statistics.</summary>
    public async Task<RunResult> RunAsync(CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        run.CancelAfter(_maxDuration);
        string? stopReason = null;
        void StopTest(string reason)
        {
            Interlocked.CompareExchange(ref stopReason, reason, null);
            try
            {
                run.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already over.
            }
        }

        var executions = _scenarios.Select(s => new ScenarioExecution(s, _time, run.Token, StopTest)).ToList();
        using var samplerStop = new CancellationTokenSource();
        var sampler = SampleAsync(executions, samplerStop.Token);
        try
        {
            await Task.WhenAll(executions.Select(e => e.InitAsync())).ConfigureAwait(false);
            if (_startGate is not null && !run.IsCancellationRequested)
            {
                await _startGate(run.Token).ConfigureAwait(false);
            }

            await Task.WhenAll(executions.Select(e => e.RunLoadAsync())).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            stopReason ??= cancellationToken.IsCancellationRequested ? "cancelled" : $"reached the run's time limit of {_maxDuration}";
        }
        finally
        {
            await Task.WhenAll(executions.Select(e => e.CleanAsync(cancellationToken))).ConfigureAwait(false);
            await samplerStop.CancelAsync().ConfigureAwait(false);
            await sampler.ConfigureAwait(false);
        }

        _progress?.Invoke(executions.Select(e => e.Progress()).ToList());
        return new RunResult(executions.Select(e => e.ToStats()).ToList(), stopReason, _time.GetElapsedTime(start));
    }

    private async Task SampleAsync(IReadOnlyList<ScenarioExecution> executions, CancellationToken token)
    {
        using var timer = new PeriodicTimer(_sampleInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                foreach (var execution in executions)
                {
                    execution.Sample();
                }

                _progress?.Invoke(executions.Select(e => e.Progress()).ToList());
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }
}
