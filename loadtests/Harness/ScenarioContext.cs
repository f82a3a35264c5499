namespace Tcm.LoadTests.Harness;

/// <summary>What the runner shares between a scenario's contexts: statistics, gauges, and the stop switch.</summary>
internal sealed class ScenarioRuntime
{
    private readonly Dictionary<string, StepCollector> _steps = new(StringComparer.Ordinal);
    private readonly List<StepCollector> _stepOrder = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop;
    private string? _stopReason;

    public ScenarioRuntime(string name, TimeProvider time, CancellationToken runToken, Action<string> stopTest)
    {
        Name = name;
        Time = time;
        Iterations = new StepCollector(name);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(runToken);
        StopTest = stopTest;
    }

    public string Name { get; }

    public TimeProvider Time { get; }

    public StepCollector Iterations { get; }

    public GaugeSet Gauges { get; } = new();

    /// <summary>Cancelled when the scenario must stop (its own request, the test's, or the run's).</summary>
    public CancellationToken StopToken => _stop.Token;

    public string? StopReason => Volatile.Read(ref _stopReason);

    public Action<string> StopTest { get; }

    /// <summary>Collectors of the steps in order of first use.</summary>
    public IReadOnlyList<StepCollector> Steps
    {
        get
        {
            lock (_lock)
            {
                return [.. _stepOrder];
            }
        }
    }

    /// <summary>The collector for a step, created on first use.</summary>
    public StepCollector Step(string name)
    {
        lock (_lock)
        {
            if (!_steps.TryGetValue(name, out var collector))
            {
                collector = new StepCollector(name);
                _steps.Add(name, collector);
                _stepOrder.Add(collector);
            }

            return collector;
        }
    }

    /// <summary>Stops the scenario early, keeping the first reason given.</summary>
    public void Stop(string reason)
    {
        Interlocked.CompareExchange(ref _stopReason, reason, null);
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run is over; nothing left to stop.
        }
    }

    /// <summary>Drops every statistic (after warm-up).</summary>
    public void ResetStatistics()
    {
        Iterations.Reset();
        lock (_lock)
        {
            foreach (var step in _stepOrder)
            {
                step.Reset();
            }
        }
    }
}

/// <summary>Context of the init and clean functions of a scenario.</summary>
internal class ScenarioInitContext
{
    internal ScenarioInitContext(ScenarioRuntime runtime, CancellationToken cancellationToken)
    {
        Runtime = runtime;
        CancellationToken = cancellationToken;
    }

    internal ScenarioRuntime Runtime { get; }

    /// <summary>The scenario's name.</summary>
    public string ScenarioName => Runtime.Name;

    /// <summary>Cancelled when the scenario or run stops.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The clock.</summary>
    public TimeProvider TimeProvider => Runtime.Time;

    /// <summary>Custom figures of the scenario.</summary>
    public GaugeSet Gauges => Runtime.Gauges;

    /// <summary>Records a latency measured elsewhere (a message's delivery time) as an OK response of step <paramref name="step"/>.</summary>
    public void Measure(string step, TimeSpan latency, long sizeBytes = 0) => Runtime.Step(step).RecordOk(latency, sizeBytes);

    /// <summary>Records a failure of step <paramref name="step"/> observed elsewhere.</summary>
    public void MeasureFail(string step, string message) => Runtime.Step(step).RecordFail(message);

    /// <summary>Adds a histogram of OK latencies measured elsewhere (a server's round trips) to step <paramref name="step"/>.</summary>
    public void MeasureHistogram(string step, LogHistogram histogram, long sizeBytes = 0) => Runtime.Step(step).RecordOkHistogram(histogram, sizeBytes);

    /// <summary>Stops this scenario now; the reason goes to the report.</summary>
    public void StopScenario(string reason) => Runtime.Stop(reason);

    /// <summary>Stops every scenario of the test now.</summary>
    public void StopCurrentTest(string reason) => Runtime.StopTest(reason);
}

/// <summary>
/// Context of one scenario iteration. In the closed model one context belongs to one copy and lives across its iterations
/// (<see cref="CopyState"/> keeps a held connection); in the open model every injection gets its own.
/// </summary>
internal sealed class ScenarioContext : ScenarioInitContext
{
    internal ScenarioContext(ScenarioRuntime runtime, int copyNumber, CancellationToken cancellationToken)
        : base(runtime, cancellationToken)
    {
        CopyNumber = copyNumber;
    }

    /// <summary>Number of this copy (closed model) or injection (open model), from 0.</summary>
    public int CopyNumber { get; }

    /// <summary>Number of the current iteration of this copy, from 0.</summary>
    public long InvocationNumber { get; internal set; }

    /// <summary>
    /// State that belongs to this copy across its iterations, such as its connection. Disposed
    /// (<see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>) when the copy stops.
    /// </summary>
    public object? CopyState { get; set; }
}
