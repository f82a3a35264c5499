using System.Collections.Concurrent;
using System.Security.Cryptography;
using Tcm.Hosting.Signals;
using Tcm.NotificationServer.SiteServers;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Gateways;

/// <summary>
/// The CEM gateways registered with this NS as the NS knows them from their reports: the latest report of each (in memory only:
/// a gateway reports again within its interval after this server restarts) and the administrators' decisions the gateway has
/// not acknowledged yet. A decision is offered to the gateway's poll until the gateway says it applied it; the gateway
/// persists it, so a decision survives the restart of either side once acknowledged (and one not yet acknowledged is lost only
/// when this server restarts before the gateway's next poll, within seconds).
/// </summary>
internal sealed class GatewayRegistry(SiteServerDirectory directory, TimeProvider time)
{
    /// <summary>The most decisions one gateway may have outstanding.</summary>
    internal const int MaxPending = 10_000;

    private readonly ConcurrentDictionary<string, GatewayState> _states = new(StringComparer.Ordinal);

    /// <summary>The state of a registered gateway (created on first use).</summary>
    public GatewayState Get(SiteServerRecord gateway) => _states.GetOrAdd(gateway.Id, static _ => new GatewayState());

    /// <summary>Keeps <paramref name="report"/> as the gateway's latest, and the address it reports as the site server's.</summary>
    public void Report(SiteServerRecord gateway, GatewayReport report)
    {
        directory.UpdateAddress(gateway, report.Address, gateway.MaxAgents);
        var state = Get(gateway);
        lock (state.Gate)
        {
            state.Report = report;
            state.ReportedAt = time.GetUtcNow();
        }
    }

    /// <summary>Drops the decisions the gateway acknowledged and returns those it still has to apply.</summary>
    public IReadOnlyList<GatewayDecision> Take(GatewayState state, IReadOnlyList<string> applied)
    {
        lock (state.Gate)
        {
            if (applied.Count > 0)
            {
                var acknowledged = applied.ToHashSet(StringComparer.Ordinal);
                state.Pending.RemoveAll(d => acknowledged.Contains(d.Id));
            }

            return [.. state.Pending];
        }
    }

    /// <summary>
    /// Queues an administrator's decision for gateway <paramref name="name"/>. Approving needs the certificate among those the
    /// gateway reported held (or a decision on it still pending); blocking takes any SHA-256 thumbprint, as on the gateway itself. A later decision on the same certificate replaces one not yet taken.
    /// </summary>
    public GatewayDecisionOutcome Decide(string name, string thumbprint, GatewayCertificateAction action)
    {
        var gateway = directory.All.FirstOrDefault(s => s.Kind == SiteServerKind.Gateway && string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
        if (gateway is null)
        {
            return new(GatewayDecisionResult.UnknownGateway, null);
        }

        thumbprint = thumbprint.Trim().ToUpperInvariant();
        if (thumbprint.Length != 64 || !thumbprint.All(char.IsAsciiHexDigit))
        {
            return new(GatewayDecisionResult.BadThumbprint, null);
        }

        var state = Get(gateway);
        GatewayDecision decision;
        lock (state.Gate)
        {
            if (action == GatewayCertificateAction.Approve && state.Report?.Held.Any(h => string.Equals(h.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase)) != true
                && !state.Pending.Any(d => d.Thumbprint == thumbprint))
            {
                return new(GatewayDecisionResult.UnknownCertificate, null);
            }

            state.Pending.RemoveAll(d => d.Thumbprint == thumbprint);
            if (state.Pending.Count >= MaxPending)
            {
                return new(GatewayDecisionResult.TooManyPending, null);
            }

            decision = new GatewayDecision(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), thumbprint, action, time.GetUtcNow());
            state.Pending.Add(decision);
        }

        state.Signal.Set();
        return new(GatewayDecisionResult.Queued, decision);
    }

    /// <summary>Every registered (or waiting) gateway with its latest report, by name.</summary>
    public IReadOnlyList<GatewayView> List()
    {
        var now = time.GetUtcNow();
        return [.. directory.All.Where(s => s.Kind == SiteServerKind.Gateway).Select(gateway =>
        {
            var state = Get(gateway);
            lock (state.Gate)
            {
                var interval = TimeSpan.FromSeconds(Math.Max(1, state.Report?.IntervalSeconds ?? 10));
                return new GatewayView
                {
                    Id = gateway.Id,
                    Name = gateway.Name,
                    Registered = gateway.Thumbprint is not null,
                    Address = gateway.Address,
                    ReportedAt = state.ReportedAt,
                    Stale = state.ReportedAt is { } at && now - at > 3 * interval,
                    Polling = state.Polls > 0,
                    Report = state.Report,
                    PendingDecisions = [.. state.Pending],
                };
            }
        })];
    }
}

/// <summary>What this NS holds for one gateway; <see cref="Gate"/> guards the fields.</summary>
internal sealed class GatewayState
{
    public Lock Gate { get; } = new();
    public WorkSignal Signal { get; } = new();
    public GatewayReport? Report { get; set; }
    public DateTimeOffset? ReportedAt { get; set; }
    public List<GatewayDecision> Pending { get; } = [];
    private int _polls;

    /// <summary>Decision polls open now.</summary>
    public int Polls => Volatile.Read(ref _polls);

    public void BeginPoll() => Interlocked.Increment(ref _polls);

    public void EndPoll() => Interlocked.Decrement(ref _polls);
}

/// <summary>The outcome of <see cref="GatewayRegistry.Decide"/>.</summary>
internal enum GatewayDecisionResult
{
    Queued,
    UnknownGateway,
    BadThumbprint,
    UnknownCertificate,
    TooManyPending,
}

/// <summary>A decision's outcome and, when queued, the decision.</summary>
internal readonly record struct GatewayDecisionOutcome(GatewayDecisionResult Result, GatewayDecision? Decision);
