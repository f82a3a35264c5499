using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Waves;

/// <summary>
/// How long a node's claim on an action's waves holds when nodes share the store (<see cref="INodeSignal.Shared"/>): the driver renews it
/// every <see cref="Renewal"/>; once it ran out (the node died) another node takes the action over at its next look, so within
/// <see cref="Duration"/> + <see cref="Renewal"/>. A node that stops gives its actions up at once. Nodes' clocks must agree to well
/// within <see cref="Duration"/>.
/// </summary>
/// <param name="Duration">How long a lease holds. Default 15 s.</param>
internal sealed record WaveLease(TimeSpan Duration)
{
    /// <summary>The lease of a running server.</summary>
    public static WaveLease Default { get; } = new(TimeSpan.FromSeconds(15));

    /// <summary>How often the driver renews its leases and every node looks for actions whose driver is gone: a third of the lease.</summary>
    public TimeSpan Renewal => Duration / 3;
}

/// <summary>Another node sends this action's waves now (it took them over, or sent this wave already): this node leaves the action.</summary>
internal sealed class WavesTakenOverException(string actionId) : Exception($"another node sends the waves of action '{actionId}'");

/// <summary>
/// The leases of one node on the actions whose waves it sends (columns <c>action_wave_plans.driver</c> and <c>lease_until</c>), through
/// the store's writer. Used only when nodes share the store; one node alone sends every action's waves without a lease.
/// </summary>
internal sealed class WaveDrivers(ActionLedger ledger, TcmStore store, NodeIdentity node, WaveLease lease, TimeProvider time)
{
    /// <summary>This node's name, as the store records it.</summary>
    public string Node => node.Name;

    /// <summary>When a lease taken or renewed now runs out, in milliseconds since the epoch.</summary>
    public long UntilMs(long nowMs) => nowMs + (long)lease.Duration.TotalMilliseconds;

    /// <summary>Takes the actions of <paramref name="open"/> whose driver's lease ran out (or that have none); returns those taken.</summary>
    public Task<List<OpenWaves>> ClaimAsync(IReadOnlyList<OpenWaves> open, CancellationToken ct)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        return store.Writer.WriteAsync(ctx => open.Where(o => ledger.ClaimWaves(ctx, o.ActionId, node.Name, nowMs, UntilMs(nowMs))).ToList(), ct);
    }

    /// <summary>Renews this node's leases on <paramref name="actionIds"/>; returns those another node took over meanwhile.</summary>
    public Task<List<string>> RenewAsync(IReadOnlyList<string> actionIds, CancellationToken ct)
    {
        var untilMs = UntilMs(time.GetUtcNow().ToUnixTimeMilliseconds());
        return store.Writer.WriteAsync(ctx => actionIds.Where(id => !ledger.RenewWaves(ctx, id, node.Name, untilMs)).ToList(), ct);
    }

    /// <summary>Gives up every action this node drives, so another node takes them at once.</summary>
    public Task<int> ReleaseAsync(CancellationToken ct) => store.Writer.WriteAsync(ctx => ledger.ReleaseWaves(ctx, node.Name), ct);
}
