using System.Collections.Concurrent;
using System.Security.Cryptography;
using Tcm.Hosting.Signals;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.SiteServers;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Gateways;

/// <summary>
/// The CEM gateways registered with this NS as the NS knows them from their reports: the latest report of each and the administrators'
/// decisions the gateway has not acknowledged yet, kept in the store (<see cref="GatewayStore"/>) and in memory. A decision is offered to
/// the gateway's poll until the gateway says it applied it, which removes it from the store; the gateway persists it, so a decision
/// survives the restart of either side. With several nodes on one database every change is told to the others
/// (<see cref="NodeChangeKind.Gateway"/>), which read that gateway again (<see cref="ReloadAsync"/>): the node that holds the gateway's
/// poll delivers a decision made on another at once, and every node lists the same.
/// </summary>
internal sealed class GatewayRegistry
{
    /// <summary>The most decisions one gateway may have outstanding.</summary>
    internal const int MaxPending = 10_000;

    private readonly SiteServerDirectory _directory;
    private readonly GatewayStore _store;
    private readonly INodeSignal _nodes;
    private readonly string _node;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, GatewayState> _states = new(StringComparer.Ordinal);

    public GatewayRegistry(SiteServerDirectory directory, TcmStore store, INodeSignal nodes, NodeIdentity node, TimeProvider time)
    {
        _directory = directory;
        _store = new GatewayStore(store);
        _nodes = nodes;
        _node = node.Name;
        _time = time;
        foreach (var (id, stored) in _store.Load(null))
        {
            Get(id).Apply(stored, _node);
        }

        if (nodes.Shared)
        {
            _store.PostForgetPolls(_node);
        }
    }

    /// <summary>The state of a registered gateway (created on first use).</summary>
    public GatewayState Get(SiteServerRecord gateway) => Get(gateway.Id);

    private GatewayState Get(string gatewayId) => _states.GetOrAdd(gatewayId, static _ => new GatewayState());

    /// <summary>Keeps <paramref name="report"/> as the gateway's latest, and the address it reports as the site server's.</summary>
    public async Task ReportAsync(SiteServerRecord gateway, GatewayReport report, CancellationToken cancellationToken)
    {
        _directory.UpdateAddress(gateway, report.Address, gateway.MaxAgents);
        var at = DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());
        var state = Get(gateway);
        await ChangeAsync(gateway.Id, state, () => _store.SaveReportAsync(gateway.Id, report, at, cancellationToken), () =>
        {
            state.Report = report;
            state.ReportedAt = at;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops the decisions the gateway acknowledged (from the store too) and returns those it still has to apply.</summary>
    public async Task<IReadOnlyList<GatewayDecision>> TakeAsync(SiteServerRecord gateway, GatewayState state, IReadOnlyList<string> applied, CancellationToken cancellationToken)
    {
        if (applied.Count > 0)
        {
            var acknowledged = applied.Take(MaxPending).ToHashSet(StringComparer.Ordinal);
            await ChangeAsync(gateway.Id, state, () => _store.RemoveDecisionsAsync(gateway.Id, acknowledged, cancellationToken),
                () => state.Pending.RemoveAll(d => acknowledged.Contains(d.Id)), cancellationToken).ConfigureAwait(false);
        }

        lock (state.Gate)
        {
            return [.. state.Pending];
        }
    }

    /// <summary>
    /// Queues an administrator's decision for gateway <paramref name="name"/>. Approving needs the certificate among those the
    /// gateway reported held (or a decision on it still pending); blocking takes any SHA-256 thumbprint, as on the gateway itself. A later decision on the same certificate replaces one not yet taken.
    /// </summary>
    public async Task<GatewayDecisionOutcome> DecideAsync(string name, string thumbprint, GatewayCertificateAction action, CancellationToken cancellationToken)
    {
        var gateway = _directory.All.FirstOrDefault(s => s.Kind == SiteServerKind.Gateway && string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
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
        await state.Updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        GatewayDecision decision;
        try
        {
            lock (state.Gate)
            {
                if (action == GatewayCertificateAction.Approve && state.Report?.Held.Any(h => string.Equals(h.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase)) != true
                    && !state.Pending.Any(d => d.Thumbprint == thumbprint))
                {
                    return new(GatewayDecisionResult.UnknownCertificate, null);
                }

                if (state.Pending.Count(d => d.Thumbprint != thumbprint) >= MaxPending)
                {
                    return new(GatewayDecisionResult.TooManyPending, null);
                }
            }

            // why whole milliseconds: the store keeps those, and every node must list the same decision.
            var decidedAt = DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());
            decision = new GatewayDecision(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), thumbprint, action, decidedAt);
            await _store.AddDecisionAsync(gateway.Id, decision, cancellationToken).ConfigureAwait(false);
            lock (state.Gate)
            {
                state.Pending.RemoveAll(d => d.Thumbprint == thumbprint);
                state.Pending.Add(decision);
            }
        }
        finally
        {
            state.Updates.Release();
        }

        state.Signal.Set();
        _nodes.Changed(new NodeChange(NodeChangeKind.Gateway, gateway.Id));
        return new(GatewayDecisionResult.Queued, decision);
    }

    /// <summary>A decision poll of <paramref name="gateway"/> opens here; the other nodes learn that this node holds it.</summary>
    public void BeginPoll(SiteServerRecord gateway, GatewayState state)
    {
        if (state.BeginPoll() && _nodes.Shared)
        {
            _store.PostPoll(gateway.Id, _node, holds: true, () => _nodes.Changed(new NodeChange(NodeChangeKind.Gateway, gateway.Id)));
        }
    }

    /// <summary>A decision poll of <paramref name="gateway"/> ended here.</summary>
    public void EndPoll(SiteServerRecord gateway, GatewayState state)
    {
        if (state.EndPoll() && _nodes.Shared)
        {
            _store.PostPoll(gateway.Id, _node, holds: false, () => _nodes.Changed(new NodeChange(NodeChangeKind.Gateway, gateway.Id)));
        }
    }

    /// <summary>
    /// Reads gateway <paramref name="gatewayId"/> (every one when null) again from the store, as another node changed it: its address,
    /// report, the node holding its poll and its pending decisions; a poll held here is woken when decisions wait.
    /// </summary>
    public async Task ReloadAsync(string? gatewayId, CancellationToken cancellationToken)
    {
        _directory.Reload(gatewayId);
        var ids = gatewayId is not null ? [gatewayId] : _states.Keys.Union(_store.Load(null).Keys, StringComparer.Ordinal).ToList();
        foreach (var id in ids)
        {
            var state = Get(id);
            await state.Updates.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // why under Updates: a read that overtook this node's own write must not put back what that write removed.
                state.Apply(_store.Load(id)[id], _node);
            }
            finally
            {
                state.Updates.Release();
            }

            if (state.HasPending)
            {
                state.Signal.Set();
            }
        }
    }

    /// <summary>Every registered (or waiting) gateway with its latest report, by name.</summary>
    public IReadOnlyList<GatewayView> List()
    {
        var now = _time.GetUtcNow();
        return [.. _directory.All.Where(s => s.Kind == SiteServerKind.Gateway).Select(gateway =>
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
                    Polling = state.Polls > 0 || state.PollNode is not null,
                    Report = state.Report,
                    PendingDecisions = [.. state.Pending],
                };
            }
        })];
    }

    /// <summary>One change of a gateway: written to the store, then made in memory, then told to the other nodes.</summary>
    private async Task ChangeAsync(string gatewayId, GatewayState state, Func<Task> write, Action apply, CancellationToken cancellationToken)
    {
        await state.Updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await write().ConfigureAwait(false);
            lock (state.Gate)
            {
                apply();
            }
        }
        finally
        {
            state.Updates.Release();
        }

        _nodes.Changed(new NodeChange(NodeChangeKind.Gateway, gatewayId));
    }
}

/// <summary>
/// What this NS holds for one gateway; <see cref="Gate"/> guards the fields, <see cref="Updates"/> orders the changes that write the
/// store and the reads of it again.
/// </summary>
internal sealed class GatewayState
{
    private int _polls;

    public Lock Gate { get; } = new();
    public SemaphoreSlim Updates { get; } = new(1, 1);
    public WorkSignal Signal { get; } = new();
    public GatewayReport? Report { get; set; }
    public DateTimeOffset? ReportedAt { get; set; }

    /// <summary>Another node that holds the gateway's decision poll, as the store said when last read; null when none does.</summary>
    public string? PollNode { get; private set; }

    public List<GatewayDecision> Pending { get; } = [];

    /// <summary>Decision polls open now on this node.</summary>
    public int Polls => Volatile.Read(ref _polls);

    public bool HasPending
    {
        get
        {
            lock (Gate)
            {
                return Pending.Count > 0;
            }
        }
    }

    /// <summary>Counts a poll opened here; true when it is the only one.</summary>
    public bool BeginPoll() => Interlocked.Increment(ref _polls) == 1;

    /// <summary>Counts a poll ended here; true when none is left.</summary>
    public bool EndPoll() => Interlocked.Decrement(ref _polls) == 0;

    /// <summary>Takes what the store holds; this node's own name as the poll's holder is its own count's business.</summary>
    public void Apply(StoredGateway stored, string self)
    {
        lock (Gate)
        {
            Report = stored.Report;
            ReportedAt = stored.ReportedAt;
            PollNode = string.Equals(stored.PollNode, self, StringComparison.Ordinal) ? null : stored.PollNode;
            Pending.Clear();
            Pending.AddRange(stored.Pending);
        }
    }
}

/// <summary>The outcome of <see cref="GatewayRegistry.DecideAsync"/>.</summary>
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
