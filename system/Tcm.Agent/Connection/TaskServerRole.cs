using System.Collections.ObjectModel;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Routing;
using Tcm.Protocol;

namespace Tcm.Agent.Connection;

/// <summary>
/// The Client Task Agent's connection to a Task Server: waits for an identity and a policy that lists Task Servers, picks one by the
/// policy's method (the one in use first while it works; <see cref="TaskServerSelector"/>), and fails over to the next one at once
/// when it refuses the agent (<c>task-server-full</c>) or fails. A Task Server does not know the NS's "TCM communication" setting, so
/// the agent itself closes this channel when the policy no longer allows it.
/// </summary>
internal sealed partial class TaskServerRole(AgentContext agent, ConnectionLoop connection, IDelivery delivery) : IConnectionRole
{
    /// <summary>How long a Task Server that refused or failed is tried only after all others.</summary>
    private static readonly TimeSpan TaskServerCooldown = TimeSpan.FromMinutes(2);

    private readonly ILogger _logger = agent.Logger;
    private readonly Lock _gate = new();


    // Task Server id -> until when it is tried last; under _gate. Made at the first failure, and the connect times when a policy first
    // asks for the fastest connection: a simulator holds thousands of agents that need neither.
    private Dictionary<string, DateTimeOffset>? _excluded;
    private TaskServerConnectTimes? _connectTimes;

    public RoleTraits Traits => RoleTraits.TaskServer;

    public Task AwaitIdentityAsync(CancellationToken stop) => connection.Signal.WaitAsync(TimeSpan.FromHours(1), stop).AsTask();

    /// <summary>
    /// For the fastest connection, a fresh choice (no Task Server in use) first measures the connect time to each listed server that
    /// has no measurement yet.
    /// </summary>
    public Task PrepareChoiceAsync(CancellationToken stop)
    {
        var policy = agent.Policy;
        if (policy?.TaskServers is not { Selection: TaskServerSelection.FastestConnection, Servers.Count: > 0 } servers || connection.State.ServerId is not null)
        {
            return Task.CompletedTask;
        }

        var plan = agent.Routes.Plan;
        var connectTimes = LazyInitializer.EnsureInitialized(ref _connectTimes,
            () => new TaskServerConnectTimes(agent.Network, agent.Time, agent.Options.ProbeTimeout, agent.Logger));
        return connectTimes.MeasureMissingAsync(
            [.. servers.Servers.Select(s => (s, RouteResolver.ResolveRoute(agent.Options.Package, policy, plan, s)))], stop);
    }

    /// <summary>The Task Server to use now and the route to it, or null when the policy lists none.</summary>
    public AgentRoute? ChooseRoute(DateTimeOffset now)
    {
        var policy = agent.Policy;
        var previous = connection.State.ServerId;
        IReadOnlyList<TaskServerEntry> order;
        lock (_gate)
        {
            order = TaskServerSelector.Order(policy?.TaskServers, previous, (IReadOnlyDictionary<string, DateTimeOffset>?)_excluded ?? ReadOnlyDictionary<string, DateTimeOffset>.Empty, now,
                policy?.TaskServers?.Selection == TaskServerSelection.FastestConnection ? Volatile.Read(ref _connectTimes)?.Snapshot() ?? ReadOnlyDictionary<string, TimeSpan>.Empty : null);
        }

        if (order.Count == 0)
        {
            connection.State.Route = null;
            connection.State.ServerId = null;
            return null;
        }

        var chosen = order[0];
        var route = RouteResolver.ResolveRoute(agent.Options.Package, policy, agent.Routes.Plan, chosen);
        connection.State.Route = route;
        connection.State.ServerId = chosen.Id;
        if (previous != chosen.Id)
        {
            Log.TaskServerChosen(_logger, chosen.Id, route.HostAndPort, policy!.TaskServers!.Selection.ToString(), chosen.RegisteredAgents, chosen.MaxAgents);
        }

        return route;
    }

    public AgentRoute RouteForRequest() => connection.State.Route ?? throw new AgentChannelClosedException("no Task Server to deliver to yet");

    public string CemTargets(AgentRoute route) => route.HostAndPort;

    public void OnWelcome(WelcomeMessage welcome)
    {
    }

    /// <summary>The Client Task Agent does not wait for a Task Server that went away or turned it down: it tries the next one.</summary>
    public bool TryHandleLoss(AgentRoute route, string? code, string reason, bool refused)
    {
        if (refused && code is not (CloseReasons.TaskServerFull or CloseReasons.BadCertificate or CloseReasons.UnknownAgent))
        {
            return false;
        }

        FailOver(route, reason);
        return true;
    }

    public void OnChannelDropped(DateTimeOffset now)
    {
    }

    /// <summary>Polls the Task Server when due, delivering kept results first; a failed poll fails over at once.</summary>
    public async Task<bool> DoHttpWorkAsync(AgentRoute route, CancellationToken stop)
    {
        if (agent.Time.GetUtcNow() < connection.State.NextTaskPoll)
        {
            return true;
        }

        try
        {
            await delivery.PollOverHttpAsync(connection, stop).ConfigureAwait(false);
            connection.State.NextTaskPoll = agent.Time.GetUtcNow() + agent.TaskPollInterval;
            return true;
        }
        catch (Exception ex) when (ex is AgentProtocolException || AgentContext.IsNetworkFailure(ex, stop))
        {
            Log.HttpPollFailed(_logger, route.HostAndPort, ex.Message);
            FailOver(route, ex.Message);
            return false;
        }
    }

    public DateTimeOffset NextHttpWork() => connection.State.NextTaskPoll;

    /// <summary>Connect times measured on the old route say nothing about the new one.</summary>
    public void OnRouteChanged() => Volatile.Read(ref _connectTimes)?.Clear();

    public bool OnUnknownAgent(UnknownAgentException ex) => false;

    /// <summary>
    /// The Task Server in use refused the agent or failed: try it last for a while and go to the next one at once. When every Task
    /// Server has failed, start over with jittered back-off.
    /// </summary>
    private void FailOver(AgentRoute route, string reason)
    {
        var now = agent.Time.GetUtcNow();
        var failed = connection.State.ServerId;
        bool allExcluded;
        lock (_gate)
        {
            if (failed is not null)
            {
                (_excluded ??= new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal))[failed] = now + TaskServerCooldown;
            }

            var servers = agent.Policy?.TaskServers?.Servers ?? [];
            allExcluded = servers.All(s => _excluded?.TryGetValue(s.Id, out var until) == true && until > now);
            if (allExcluded)
            {
                _excluded = null;
                // A new round measures again: the servers that all failed may answer differently now.
                Volatile.Read(ref _connectTimes)?.Clear();
            }
        }

        connection.State.ServerId = null;
        if (allExcluded)
        {
            connection.BackOff(route, $"every Task Server refused or failed; last: {reason}");
            // Polling backs off too: a refused poll must not be retried in a tight loop.
            connection.State.NextTaskPoll = connection.State.ChannelNotBefore;
            return;
        }

        // The next server is tried at once, but the back-off is NOT reset here: it keeps growing over whole rounds of the list
        // until a channel connects (which resets it), so an agent whose every Task Server is gone does not retry every second.
        connection.State.ChannelNotBefore = now;
        connection.State.NextTaskPoll = now;
        connection.SetHttpReason($"failing over: {reason}");
        Log.TaskServerFailOver(_logger, failed, route.HostAndPort, reason);
        connection.Signal.Set();
    }

    private static partial class Log
    {
        [LoggerMessage(1070, LogLevel.Information, "Client Task Agent chose Task Server '{Id}' at {HostAndPort} ({Method}: {Registered} of {Max} agents)", EventName = "TaskServerChosen")]
        public static partial void TaskServerChosen(ILogger logger, string id, string hostAndPort, string method, int registered, int max);

        [LoggerMessage(1071, LogLevel.Warning, "Client Task Agent fails over from Task Server '{Id}' at {HostAndPort}: {Reason}", EventName = "TaskServerFailOver")]
        public static partial void TaskServerFailOver(ILogger logger, string? id, string hostAndPort, string reason);

        [LoggerMessage(1042, LogLevel.Warning, "HTTP poll of '{HostAndPort}' failed: {Reason}", EventName = "HttpPollFailed")]
        public static partial void HttpPollFailed(ILogger logger, string hostAndPort, string reason);
    }
}
