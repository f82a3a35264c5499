using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Network;
using Tcm.Agent.Status;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Routing;

/// <summary>
/// Keeps the agent's one routing decision (<see cref="RoutePlan"/>) current. A re-evaluation is requested when the adapters change
/// (<see cref="INetwork.AdaptersChanged"/>), when a policy with new routing settings arrives, and when a connection fails; it runs
/// before the next connection attempt (<see cref="EnsureCurrentAsync"/>, which every connection attempt awaits), so no connection
/// leaves on a decision that a pending change would alter (the article's fix #1). Evaluations are serialized; a request that arrives
/// during one evaluates again. The reachability probe (one short TCP connect to the Notification Server, purpose
/// <see cref="TrafficPurpose.Probe"/>) runs only while re-evaluating, and only when no preference decides already; its answer is
/// cached in the plan until the next re-evaluation. No thread and no timer of its own.
/// </summary>
internal sealed partial class RouteKeeper(InstallPackage package, INetwork network, TimeProvider time, TimeSpan probeTimeout, Func<PolicyDocument?> currentPolicy, ILogger logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile RoutePlan _plan = RoutePlan.Initial;
    private string? _pending;
    private bool _adaptersLogged;
    private int _probes;
    private int _evaluations;

    /// <summary>The decision in force (the same object for both connections until the next change).</summary>
    public RoutePlan Plan => _plan;

    /// <summary>Whether a re-evaluation is requested and not done yet.</summary>
    public bool IsPending => Volatile.Read(ref _pending) is not null;

    /// <summary>Reachability probes made so far.</summary>
    public int Probes => Volatile.Read(ref _probes);

    /// <summary>Evaluations made so far.</summary>
    public int Evaluations => Volatile.Read(ref _evaluations);

    /// <summary>
    /// Called after a decision that changes whom the agent calls (Direct and CEM, another gateway), with the previous and the new plan:
    /// the agent moves both persistent connections to the new route. Awaited inside the evaluation.
    /// </summary>
    public Func<RoutePlan, RoutePlan, CancellationToken, Task>? RouteChanged { get; set; }

    /// <summary>
    /// Called after every published evaluation (changed or not) with whether the decision is a fallback: CEM only because the
    /// Notification Server did not answer the probe (rule 4), so the preferred route (Direct) is worth probing again later.
    /// </summary>
    public Action<bool>? Evaluated { get; set; }

    /// <summary>Which of the policy's server hosts the probe calls (the one the Notification Server connection calls now); 0 by default.</summary>
    public Func<int> ServerHost { get; set; } = static () => 0;

    /// <summary>Requests a re-evaluation before the next connection attempt; <paramref name="trigger"/> is logged with the decision.</summary>
    public void Request(string trigger) => Volatile.Write(ref _pending, trigger);

    /// <summary>
    /// Runs the requested re-evaluations (if any) and returns the decision in force. Always waits for an evaluation in progress
    /// (started by another caller, e.g. a re-evaluation in the background after an adapter change), so no caller connects on a
    /// decision that is being replaced (the article's fix #1).
    /// </summary>
    public async ValueTask<RoutePlan> EnsureCurrentAsync(CancellationToken ct)
    {
        while (true)
        {
            await _gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (Interlocked.Exchange(ref _pending, null) is not { } trigger)
                {
                    return _plan;
                }

                await EvaluateAsync(trigger, ct).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    private async Task EvaluateAsync(string trigger, CancellationToken ct)
    {
        Interlocked.Increment(ref _evaluations);
        var policy = currentPolicy();
        var adapters = network.GetAdapters();
        if (!_adaptersLogged)
        {
            // The article's throttling-engine lines: which adapters and addresses are active at start.
            _adaptersLogged = true;
            foreach (var adapter in adapters)
            {
                if (adapter.IsUp)
                {
                    foreach (var address in adapter.Addresses)
                    {
                        Log.AdapterSeen(logger, adapter.Description, adapter.Name, address);
                    }
                }
            }
        }

        bool? reachable = null;
        if (!RouteResolver.PreferenceDecides(package, policy, adapters))
        {
            reachable = await ProbeAsync(policy, ct).ConfigureAwait(false);
        }

        if (Volatile.Read(ref _pending) is { } newer)
        {
            // The adapters or the settings changed while probing (a VPN coming up during start-up): this decision would rest on
            // stale facts, so none is published; the caller's loop evaluates again at once.
            Log.EvaluationSuperseded(logger, trigger, newer);
            return;
        }

        var plan = RouteResolver.Decide(package, policy, adapters, reachable);
        var previous = _plan;
        var fallback = plan.Mode == ConnectionMode.Cem && reachable == false;
        if (plan.SameRouteAs(previous) && plan.Reason == previous.Reason && !ReferenceEquals(previous, RoutePlan.Initial))
        {
            Log.RouteUnchanged(logger, trigger, plan.Mode, plan.Reason);
            Evaluated?.Invoke(fallback);
            return;
        }

        _plan = plan;
        var vpn = RouteDecider.FindActiveVpnAdapter(adapters, policy?.Settings.VpnAdapters ?? []);
        Log.RouteDecided(logger, plan.Mode, trigger, plan.Reason, vpn?.Description ?? "none",
            reachable switch { true => "yes", false => "no", null => "not probed" });
        if (!plan.SameRouteAs(previous) && RouteChanged is { } changed)
        {
            await changed(previous, plan, ct).ConfigureAwait(false);
        }

        Evaluated?.Invoke(fallback);
    }

    private async Task<bool> ProbeAsync(PolicyDocument? policy, CancellationToken ct)
    {
        Interlocked.Increment(ref _probes);
        var (host, port) = RouteResolver.DirectNotificationServer(package, policy, ServerHost());
        using var timeout = new CancellationTokenSource(probeTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            var stream = await network.ConnectAsync(new DnsEndPoint(host, port), TrafficPurpose.Probe, linked.Token).ConfigureAwait(false);
            await stream.DisposeAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            Log.ProbeFailed(logger, $"{host}:{port}", ex is OperationCanceledException ? $"no answer within {DelayText.Format(probeTimeout)}" : ex.Message);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1080, LogLevel.Information, "'{Description}' bandwidth controller is referenced by '{Name} {Address}'", EventName = "AdapterSeen")]
        public static partial void AdapterSeen(ILogger logger, string description, string name, string address);

        [LoggerMessage(1081, LogLevel.Information, "Route decision: {Mode} ({Trigger}). {Reason}. Active VPN adapter: {Vpn}; Notification Server reachable directly: {Reachable}", EventName = "RouteDecided")]
        public static partial void RouteDecided(ILogger logger, ConnectionMode mode, string trigger, string reason, string vpn, string reachable);

        [LoggerMessage(1082, LogLevel.Debug, "Route unchanged: {Mode} ({Trigger}). {Reason}", EventName = "RouteUnchanged")]
        public static partial void RouteUnchanged(ILogger logger, string trigger, ConnectionMode mode, string reason);

        [LoggerMessage(1087, LogLevel.Debug, "Route evaluation ({Trigger}) superseded before its decision: {Newer}", EventName = "EvaluationSuperseded")]
        public static partial void EvaluationSuperseded(ILogger logger, string trigger, string newer);

        [LoggerMessage(1083, LogLevel.Debug, "Reachability probe of '{HostAndPort}' failed: {Reason}", EventName = "ProbeFailed")]
        public static partial void ProbeFailed(ILogger logger, string hostAndPort, string reason);
    }
}
