using Microsoft.Extensions.Logging;
using Tcm.Agent.Network;
using Tcm.Agent.Status;

namespace Tcm.Agent.Connection;

/// <summary>
/// Brings the agent back through its proxy after a proxy outage. While the proxy failed and the profile allowed a direct attempt, the
/// connections that went directly stay direct (an open channel and the handler's pooled connection do not dial again), so the agent
/// asks the proxy again after its back-off delay (full jitter, growing to <see cref="BackoffOptions.Max"/>: a fleet behind one proxy does
/// not storm it when it returns) for a tunnel to a destination that went directly; when it opens one, both connections are opened
/// again, through the proxy. One timer, created on the first direct connection and disposed on return, as for the preferred route
/// after a Notification Server outage.
/// </summary>
internal sealed partial class ProxyReturn(
    ProxiedNetwork network, TimeProvider time, BackoffOptions backoff, TimeSpan probeTimeout, ILogger logger,
    Action<Func<CancellationToken, Task>> startBackground, Func<CancellationToken, Task> reopenConnections)
{
    private readonly Lock _gate = new();
    private readonly Backoff _backoff = new(backoff);
    // Under _gate: a destination that went directly, and the timer that asks the proxy again.
    private string? _destination;
    private ITimer? _timer;
    private bool _stopped;

    /// <summary>A connection to <paramref name="destination"/> went directly after the proxy failed: ask the proxy again later.</summary>
    public void WentDirect(string destination)
    {
        lock (_gate)
        {
            if (_stopped || _timer is not null)
            {
                return;
            }

            _destination = destination;
            _timer = time.CreateTimer(static state => ((ProxyReturn)state!).Probe(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            ArmLocked();
        }
    }

    /// <summary>The proxy settings changed, or the agent stops (<paramref name="stop"/>): nothing to wait for.</summary>
    public void Reset(bool stop = false)
    {
        lock (_gate)
        {
            _stopped |= stop;
            _backoff.Reset();
            _timer?.Dispose();
            _timer = null;
            _destination = null;
        }
    }

    private void ArmLocked()
    {
        var delay = _backoff.Next();
        _timer!.Change(delay, Timeout.InfiniteTimeSpan);
        Log.ProbeScheduled(logger, DelayText.Format(delay), _backoff.Attempt);
    }

    private void Probe()
    {
        string? destination;
        lock (_gate)
        {
            destination = _destination;
        }

        if (destination is not null)
        {
            startBackground(ct => ProbeAsync(destination, ct));
        }
    }

    private async Task ProbeAsync(string destination, CancellationToken ct)
    {
        bool answers;
        using (var timeout = new CancellationTokenSource(probeTimeout, time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token))
        {
            try
            {
                answers = await network.ProxyAnswersAsync(destination, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                answers = false;
            }
        }

        lock (_gate)
        {
            if (_timer is null || _destination != destination)
            {
                return;
            }

            if (!answers)
            {
                ArmLocked();
                return;
            }
        }

        Reset();
        Log.ProxyBack(logger, destination);
        await reopenConnections(ct).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(1153, LogLevel.Debug, "Connected directly after a proxy failure: asking the proxy again in {Delay} (probe {Probe})", EventName = "ProxyProbeScheduled")]
        public static partial void ProbeScheduled(ILogger logger, string delay, int probe);

        [LoggerMessage(1154, LogLevel.Information, "The proxy opens a tunnel to '{Destination}' again: both connections open again through the proxy", EventName = "ProxyBack")]
        public static partial void ProxyBack(ILogger logger, string destination);
    }
}
