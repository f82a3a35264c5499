using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Actions;

/// <summary>
/// Marks the targets still pending at their action's not-after expired, without waiting for the agents (an HTTP poller may not call for
/// hours): one timer on the server's clock, due at the earliest not-after not swept yet, read from the store at start and lowered by
/// <see cref="Schedule"/> when an action with an earlier one is created.
/// </summary>
internal sealed partial class ActionExpiry(ActionLedger ledger, TcmStore store, TimeProvider time, ILogger<ActionExpiry> logger) : IHostedService, IDisposable
{
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private DateTimeOffset? _due;

    /// <summary>An action with this not-after was created: the timer fires at it, unless it is due earlier already.</summary>
    public void Schedule(DateTimeOffset? notAfter)
    {
        if (notAfter is not { } at)
        {
            return;
        }

        lock (_lock)
        {
            if (_due is { } due && due <= at)
            {
                return;
            }

            _due = at;
            var delay = at - time.GetUtcNow();
            _timer ??= time.CreateTimer(static state => ((ActionExpiry)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Marks every target pending past its action's not-after expired now, then sets the timer for the next not-after.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var swept = await store.Writer.WriteAsync(ctx => ledger.ExpireDue(ctx, nowMs), cancellationToken).ConfigureAwait(false);
        foreach (var (actionId, expired) in swept)
        {
            Log.Expired(logger, actionId, expired);
        }

        Schedule(ledger.NextNotAfter());
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Schedule(ledger.NextNotAfter());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();

    private void Fire()
    {
        lock (_lock)
        {
            _due = null;
        }

        _ = SweepLoggedAsync();
    }

    private async Task SweepLoggedAsync()
    {
        try
        {
            await SweepAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or System.Data.Common.DbException)
        {
            // why: the store closing at shutdown, or a failed write; the next start reads the not-afters again.
            Log.SweepFailed(logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 460, Level = LogLevel.Information, Message = "Action {ActionId} reached its not-after: {Expired} targets still pending are expired")]
        public static partial void Expired(ILogger logger, string actionId, int expired);

        [LoggerMessage(EventId = 461, Level = LogLevel.Warning, Message = "Marking actions past their not-after expired failed; retried at the next start")]
        public static partial void SweepFailed(ILogger logger, Exception exception);
    }
}
