using Microsoft.Extensions.Logging;
using Tcm.Agent.Connection;
using Tcm.Protocol;

namespace Tcm.Agent;

// The Client Task Agent: the same connection code as the core agent (RunChannelAsync, back-off, HTTP fallback, delivery per role),
// run against a Task Server chosen from the policy, with fail-over to the next one.
public sealed partial class TcmAgent
{
    /// <summary>How long a Task Server that refused or failed is tried only after all others.</summary>
    private static readonly TimeSpan TaskServerCooldown = TimeSpan.FromMinutes(2);

    // Task Server id -> until when it is tried last; under _gate.
    private readonly Dictionary<string, DateTimeOffset> _taskServerExcluded = new(StringComparer.Ordinal);

    /// <summary>
    /// The Client Task Agent's loop:
    /// <list type="number">
    /// <item>wait for an identity and a policy that lists Task Servers;</item>
    /// <item>pick one by the policy's method (the one in use first while it works), and decide the route through <c>RouteResolver.ResolveRoute</c> (with the plan the NS connection follows too);</item>
    /// <item>if the policy allows persistent connections, run the channel (hello role <c>ts</c>) until it ends; a refusal
    /// (<c>task-server-full</c>) or a dead server fails over to the next Task Server at once;</item>
    /// <item>otherwise poll the Task Server over HTTP every task poll interval, delivering kept results first; a failed poll fails over too.</item>
    /// </list>
    /// </summary>
    private async Task RunTaskAgentLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && !_stopping)
        {
            try
            {
                if (_identity is not null)
                {
                    // The same decision as the NS connection's: wait for a pending re-evaluation before connecting.
                    await _routes.EnsureCurrentAsync(stop).ConfigureAwait(false);
                }

                var now = _time.GetUtcNow();
                var policy = _policy;
                if (_identity is null || SelectTaskServer(policy, now) is not { } route)
                {
                    await _ts.Signal.WaitAsync(TimeSpan.FromHours(1), stop).ConfigureAwait(false);
                    continue;
                }

                if (ChannelWanted(_ts, now, out var notWantedReason, out var channelDue))
                {
                    await RunChannelAsync(_ts, route, stop).ConfigureAwait(false);
                    continue;
                }

                if (notWantedReason is not null)
                {
                    SetHttpReason(_ts, notWantedReason);
                }

                bool pollDue;
                lock (_gate)
                {
                    pollDue = now >= _ts.NextTaskPoll;
                }

                if (pollDue)
                {
                    try
                    {
                        await PollOverHttpAsync(_ts, stop).ConfigureAwait(false);
                        lock (_gate)
                        {
                            _ts.NextTaskPoll = _time.GetUtcNow() + TaskPollInterval;
                        }
                    }
                    catch (Exception ex) when (ex is AgentProtocolException || IsNetworkFailure(ex, stop))
                    {
                        Log.HttpPollFailed(_logger, route.HostAndPort, ex.Message);
                        FailOver(_ts, route, ex.Message);
                        continue;
                    }
                }

                DateTimeOffset wakeAt;
                lock (_gate)
                {
                    wakeAt = _ts.NextTaskPoll;
                }

                if (channelDue is { } due && due < wakeAt)
                {
                    wakeAt = due;
                }

                await _ts.Signal.WaitAsync(wakeAt - _time.GetUtcNow(), stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                var delay = _ts.Backoff.Next();
                Log.LoopFailed(_logger, Format(delay), ex);
                try
                {
                    await _ts.Signal.WaitAsync(delay, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>The Task Server to use now and the route to it, or null when the policy lists none.</summary>
    private AgentRoute? SelectTaskServer(PolicyDocument? policy, DateTimeOffset now)
    {
        IReadOnlyList<TaskServerEntry> order;
        string? previous;
        lock (_gate)
        {
            previous = _ts.ServerId;
            order = TaskServerSelector.Order(policy?.TaskServers, previous, _taskServerExcluded, now);
        }

        if (order.Count == 0)
        {
            lock (_gate)
            {
                _ts.Route = null;
                _ts.ServerId = null;
            }

            return null;
        }

        var chosen = order[0];
        var route = RouteResolver.ResolveRoute(_options.Package, policy, _routes.Plan, chosen);
        lock (_gate)
        {
            _ts.Route = route;
            _ts.ServerId = chosen.Id;
        }

        if (previous != chosen.Id)
        {
            Log.TaskServerChosen(_logger, chosen.Id, route.HostAndPort, policy!.TaskServers!.Selection.ToString(), chosen.RegisteredAgents, chosen.MaxAgents);
        }

        return route;
    }

    /// <summary>
    /// The Task Server in use refused the agent or failed: try it last for a while and go to the next one at once. When every Task
    /// Server has failed, start over with jittered back-off.
    /// </summary>
    private void FailOver(ServerConnection conn, AgentRoute route, string reason)
    {
        var now = _time.GetUtcNow();
        bool allExcluded;
        string? failed;
        lock (_gate)
        {
            failed = conn.ServerId;
            if (failed is not null)
            {
                _taskServerExcluded[failed] = now + TaskServerCooldown;
            }

            var servers = _policy?.TaskServers?.Servers ?? [];
            allExcluded = servers.All(s => _taskServerExcluded.TryGetValue(s.Id, out var until) && until > now);
            conn.ServerId = null;
            if (allExcluded)
            {
                _taskServerExcluded.Clear();
            }
        }

        if (allExcluded)
        {
            BackOff(conn, route, $"every Task Server refused or failed; last: {reason}");
            lock (_gate)
            {
                // Polling backs off too: a refused poll must not be retried in a tight loop.
                conn.NextTaskPoll = conn.ChannelNotBefore;
            }

            return;
        }

        // The next server is tried at once, but the back-off is NOT reset here: it keeps growing over whole rounds of the list
        // until a channel connects (which resets it), so an agent whose every Task Server is gone does not retry every second.
        lock (_gate)
        {
            conn.ChannelNotBefore = now;
            conn.NextTaskPoll = now;
        }

        SetHttpReason(conn, $"failing over: {reason}");
        Log.TaskServerFailOver(_logger, failed, route.HostAndPort, reason);
        conn.Signal.Set();
    }

    private static partial class Log
    {
        [LoggerMessage(1070, LogLevel.Information, "Client Task Agent chose Task Server '{Id}' at {HostAndPort} ({Method}: {Registered} of {Max} agents)", EventName = "TaskServerChosen")]
        public static partial void TaskServerChosen(ILogger logger, string id, string hostAndPort, string method, int registered, int max);

        [LoggerMessage(1071, LogLevel.Warning, "Client Task Agent fails over from Task Server '{Id}' at {HostAndPort}: {Reason}", EventName = "TaskServerFailOver")]
        public static partial void TaskServerFailOver(ILogger logger, string? id, string hostAndPort, string reason);
    }
}
