using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tcm.Hosting.Signals;
using Tcm.Protocol;

namespace Tcm.Gateway.Management;

/// <summary>How often the gateway reports and how long it waits: the defaults, and what tests shorten.</summary>
/// <param name="Interval">A report at least this often when nothing changes.</param>
/// <param name="MinSpacing">At most one report per this long, however often things change.</param>
/// <param name="PollWait">How long the NS may hold the decision poll open.</param>
/// <param name="RetryMax">The longest back-off after a failed call.</param>
internal sealed record ManagementTiming(TimeSpan Interval, TimeSpan MinSpacing, TimeSpan PollWait, TimeSpan RetryMax)
{
    /// <summary>A report every <paramref name="interval"/>, at most one a second, a 25-second poll, at most 30 seconds between retries.</summary>
    public static ManagementTiming For(TimeSpan interval) => new(interval, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
}

/// <summary>
/// The gateway's management link to one Notification Server, two loops over one <see cref="IManagementClient"/>:
/// <list type="number">
/// <item>report loop: send the report (counters, held certificates), then wait for a change (<see cref="NotifyChanged"/>: a
/// certificate first held, a decision applied) or the interval, whichever comes first; at most one report per
/// <see cref="ManagementTiming.MinSpacing"/>, so a storm of unknown certificates is one report a second, not one per connection.</item>
/// <item>decision loop: a long poll that carries the ids of the decisions applied since the last one; each decision that arrives
/// is applied (and so persisted by the gateway's approvals) and acknowledged by the next poll, sent at once. The NS offers a
/// decision until it is acknowledged, so one lost in a broken exchange comes again; applying twice is harmless.</item>
/// </list>
/// A failed call backs off (full jitter, doubling up to <see cref="ManagementTiming.RetryMax"/>) and tries again; the relay
/// never waits for any of this.
/// </summary>
internal sealed partial class ManagementLoop(IManagementClient client, Func<GatewayReport> buildReport, Action<GatewayDecision> apply, ManagementTiming timing, TimeProvider time, ILogger logger)
{
    private readonly WorkSignal _changed = new();

    /// <summary>Something the NS should hear about soon changed.</summary>
    public void NotifyChanged() => _changed.Set();

    /// <summary>Runs both loops until <paramref name="stop"/>.</summary>
    public Task RunAsync(CancellationToken stop) => Task.WhenAll(ReportLoopAsync(stop), DecisionLoopAsync(stop));

    private async Task ReportLoopAsync(CancellationToken stop)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var sent = time.GetUtcNow();
            try
            {
                await client.ReportAsync(buildReport(), stop).ConfigureAwait(false);
                if (failures > 0)
                {
                    Log.Reporting(logger, client.NotificationServer);
                }

                failures = 0;
                await _changed.WaitAsync(timing.Interval, time, stop).ConfigureAwait(false);
                var spacing = sent + timing.MinSpacing - time.GetUtcNow();
                if (spacing > TimeSpan.Zero)
                {
                    await Task.Delay(spacing, time, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                if (!await BackOffAsync(ex, failures++, "report", stop).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
    }

    private async Task DecisionLoopAsync(CancellationToken stop)
    {
        var failures = 0;
        var applied = new List<string>();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var answer = await client.PollAsync(new GatewayDecisionPoll { Applied = [.. applied] }, timing.PollWait, stop).ConfigureAwait(false);
                applied.Clear();
                failures = 0;
                foreach (var decision in answer.Decisions)
                {
                    apply(decision);
                    applied.Add(decision.Id);
                    Log.Applied(logger, decision.Action, decision.Thumbprint, client.NotificationServer);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                if (!await BackOffAsync(ex, failures++, "decision poll", stop).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
    }

    /// <summary>Waits out a failure's back-off; false when stopped meanwhile. The first failure in a row is a warning, the rest debug.</summary>
    private async Task<bool> BackOffAsync(Exception ex, int failure, string call, CancellationToken stop)
    {
        var ceiling = Math.Min(timing.RetryMax.TotalMilliseconds, 500 * Math.Pow(2, Math.Min(failure, 20)));
        var delay = TimeSpan.FromMilliseconds(Math.Max(50, ceiling * Random.Shared.NextDouble()));
        if (failure == 0)
        {
            Log.Failed(logger, call, client.NotificationServer, ex.Message, delay.TotalMilliseconds);
        }
        else
        {
            Log.FailedAgain(logger, call, client.NotificationServer, ex.Message, delay.TotalMilliseconds);
        }

        try
        {
            await Task.Delay(delay, time, stop).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static bool IsTransient(Exception ex) => ex is HttpRequestException or IOException or OperationCanceledException or JsonException;

    private static partial class Log
    {
        [LoggerMessage(EventId = 640, Level = LogLevel.Warning, Message = "Gateway {Call} to Notification Server '{Server}' failed ({Reason}); retrying in {DelayMs:0} ms")]
        public static partial void Failed(ILogger logger, string call, string server, string reason, double delayMs);

        [LoggerMessage(EventId = 641, Level = LogLevel.Debug, Message = "Gateway {Call} to Notification Server '{Server}' failed again ({Reason}); retrying in {DelayMs:0} ms")]
        public static partial void FailedAgain(ILogger logger, string call, string server, string reason, double delayMs);

        [LoggerMessage(EventId = 642, Level = LogLevel.Information, Message = "Reporting to Notification Server '{Server}' again")]
        public static partial void Reporting(ILogger logger, string server);

        [LoggerMessage(EventId = 643, Level = LogLevel.Information, Message = "Applied '{Action}' of certificate {Thumbprint}, decided on Notification Server '{Server}'")]
        public static partial void Applied(ILogger logger, GatewayCertificateAction action, string thumbprint, string server);
    }
}
