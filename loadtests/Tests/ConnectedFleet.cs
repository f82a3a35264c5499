using System.Collections.Concurrent;

namespace Tcm.LoadTests.Tests;

/// <summary>A set of agents connected up front (in a scenario's init), a bounded number at a time, closed at clean.</summary>
internal sealed class ConnectedFleet : IAsyncDisposable
{
    private readonly ConcurrentBag<IAgentChannel> _channels = [];

    /// <summary>Agents connected.</summary>
    public int Count => _channels.Count;

    /// <summary>
    /// Connects <paramref name="agents"/> agents, <paramref name="concurrency"/> at a time, measuring each as step
    /// <c>connect</c> of the scenario; failures are retried up to three times.
    /// </summary>
    public async Task ConnectAsync(TestContext context, ScenarioInitContext scenario, int agents, int concurrency, IPushObserver observer, CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(
            Enumerable.Range(0, agents),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                for (var attempt = 0; attempt < 3; attempt++)
                {
                    var start = context.Time.GetTimestamp();
                    try
                    {
                        var channel = await context.Target.ConnectAsync(context.AgentOffset + i, observer, ct).ConfigureAwait(false);
                        scenario.Measure("connect", context.Time.GetElapsedTime(start));
                        _channels.Add(channel);
                        return;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        scenario.MeasureFail("connect", Step.Describe(ex));
                        await Task.Delay(TimeSpan.FromMilliseconds(500), context.Time, ct).ConfigureAwait(false);
                    }
                }
            }).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        while (_channels.TryTake(out var channel))
        {
            await channel.DisposeAsync().ConfigureAwait(false);
        }
    }
}
