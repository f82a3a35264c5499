using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Network;
using Tcm.Agent.Routing;
using Tcm.Agent.Status;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Connection;

/// <summary>
/// The Client Task Agent's measured connect time to each Task Server, for <see cref="TaskServerSelection.FastestConnection"/>: one TCP
/// connect per server (through the profile's proxy when it has one, purpose <see cref="TrafficPurpose.Probe"/>), all at once, each within
/// the agent's probe timeout. Measured when the agent chooses a Task Server afresh and a listed server has no measurement yet; kept
/// until the route changes or every server has failed (a new round measures again). Only the Direct route is measured: through the
/// gateway every Task Server is behind the same connection, so there is nothing to tell them apart by.
/// </summary>
internal sealed partial class TaskServerConnectTimes(INetwork network, TimeProvider time, TimeSpan timeout, ILogger logger)
{
    private readonly Lock _gate = new();
    // Task Server id -> the address measured and its connect time (null: no answer within the timeout); under _gate. Only an agent
    // told to choose by connect time allocates it (a simulator runs thousands of agents).
    private Dictionary<string, (string Address, TimeSpan? Time)>? _measured;

    /// <summary>The connect times measured so far, by Task Server id (servers that did not answer are absent).</summary>
    public IReadOnlyDictionary<string, TimeSpan> Snapshot()
    {
        lock (_gate)
        {
            return _measured is null
                ? new Dictionary<string, TimeSpan>()
                : _measured.Where(m => m.Value.Time is not null).ToDictionary(m => m.Key, m => m.Value.Time!.Value, StringComparer.Ordinal);
        }
    }

    /// <summary>Forgets every measurement: the next fresh choice measures again.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _measured = null;
        }
    }

    /// <summary>Measures the Direct routes in <paramref name="routes"/> (Task Server and its route) that have no measurement for their address yet.</summary>
    public async Task MeasureMissingAsync(IReadOnlyList<(TaskServerEntry Server, AgentRoute Route)> routes, CancellationToken ct)
    {
        List<(TaskServerEntry Server, AgentRoute Route)> due;
        lock (_gate)
        {
            due = [.. routes.Where(r => r.Route.Mode == ConnectionMode.Direct
                && !(_measured is not null && _measured.TryGetValue(r.Server.Id, out var m) && m.Address == r.Route.HostAndPort))];
        }

        if (due.Count == 0)
        {
            return;
        }

        var results = await Task.WhenAll(due.Select(r => MeasureAsync(r.Route, ct))).ConfigureAwait(false);
        lock (_gate)
        {
            _measured ??= new Dictionary<string, (string, TimeSpan?)>(StringComparer.Ordinal);
            for (var i = 0; i < due.Count; i++)
            {
                _measured[due[i].Server.Id] = (due[i].Route.HostAndPort, results[i]);
            }
        }
    }

    private async Task<TimeSpan?> MeasureAsync(AgentRoute route, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var started = time.GetTimestamp();
        try
        {
            var endpoint = new DnsEndPoint(route.BaseAddress.Host.Trim('[', ']'), route.BaseAddress.Port);
            var stream = await network.ConnectAsync(endpoint, TrafficPurpose.Probe, linked.Token).ConfigureAwait(false);
            var elapsed = time.GetElapsedTime(started);
            await stream.DisposeAsync().ConfigureAwait(false);
            Log.Measured(logger, route.HostAndPort, DelayText.Format(elapsed));
            return elapsed;
        }
        catch (Exception ex) when (ex is SocketException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            Log.NotMeasured(logger, route.HostAndPort, ex is OperationCanceledException ? $"no answer within {DelayText.Format(timeout)}" : ex.Message);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1072, LogLevel.Information, "Connect time to Task Server at {HostAndPort}: {Elapsed}", EventName = "TaskServerConnectTime")]
        public static partial void Measured(ILogger logger, string hostAndPort, string elapsed);

        [LoggerMessage(1073, LogLevel.Information, "Connect time to Task Server at {HostAndPort} not measured: {Reason}", EventName = "TaskServerConnectTimeFailed")]
        public static partial void NotMeasured(ILogger logger, string hostAndPort, string reason);
    }
}
