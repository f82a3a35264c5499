using Microsoft.Extensions.Logging;
using Tcm.Agent.Routing;
using Tcm.Agent.Status;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Connection;

/// <summary>
/// The core agent's connection to its Notification Server: registers when the agent has no identity, calls the policy's first
/// server host (the next one after a failure, when the policy lists several Notification Server nodes), keeps the policy fresh (over the channel when it is up, else HTTP), and posts the Network Status with its HTTP polls.
/// The NS closes a channel its policy no longer allows by itself.
/// </summary>
internal sealed partial class NotificationServerRole(AgentContext agent, ConnectionLoop connection, IDelivery delivery, Func<CancellationToken, Task> register,
    Func<NetworkStatus> status) : IConnectionRole
{
    private readonly ILogger _logger = agent.Logger;
    private readonly Lock _gate = new();
    private NetworkStatus? _lastPostedStatus;

    public RoleTraits Traits => RoleTraits.NotificationServer;

    public Task AwaitIdentityAsync(CancellationToken stop) => register(stop);

    public Task PrepareChoiceAsync(CancellationToken stop) => Task.CompletedTask;

    public AgentRoute? ChooseRoute(DateTimeOffset now) => UpdateRoute();

    public AgentRoute RouteForRequest() => connection.State.Route ?? UpdateRoute();

    /// <summary>The route to the Notification Server under the policy and the decision in force.</summary>
    public AgentRoute UpdateRoute()
    {
        var route = RouteResolver.ResolveRoute(agent.Options.Package, agent.Policy, agent.Routes.Plan, serverHost: agent.ServerHost);
        connection.State.Route = route;
        return route;
    }

    /// <summary>The article's "CEM gateway connection is preferred while connecting to ..." list: the policy's server hosts.</summary>
    public string CemTargets(AgentRoute route) =>
        agent.Policy?.Communication.ServerHosts is { Count: > 0 } hosts ? string.Join(';', hosts) : route.HostAndPort;

    public void OnWelcome(WelcomeMessage welcome)
    {
        if (welcome.PolicyEtag is { } etag && etag != agent.Policy?.Etag)
        {
            // In the background: the answer arrives through this very receive loop.
            agent.StartBackground(RefreshPolicyInBackgroundAsync);
        }
    }

    public bool TryHandleLoss(AgentRoute route, string? code, string reason, bool refused) => false;

    /// <summary>With several Notification Server nodes in the policy, the attempt after the back-off goes to the next one.</summary>
    public void OnFailure(AgentRoute route, string reason)
    {
        // why: a failure of a route already left behind (an HTTP poll still on the old route in the same round) must not skip a host.
        if (agent.Policy?.Communication.ServerHosts is not { Count: > 1 } hosts
            || !string.Equals(connection.State.Route?.HostAndPort, route.HostAndPort, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        agent.NextServerHost();
        var next = UpdateRoute();
        Log.NextServerHost(_logger, route.HostAndPort, next.HostAndPort, RouteResolver.ServerHostIndex(agent.ServerHost, hosts.Count) + 1, hosts.Count, reason);
    }

    public void OnChannelDropped(DateTimeOffset now) => agent.NextPolicyRefresh = now + agent.PolicyRefreshInterval;

    public DateTimeOffset NextHttpWork()
    {
        var policyAt = agent.NextPolicyRefresh;
        var tasksAt = connection.State.NextTaskPoll;
        return policyAt < tasksAt ? policyAt : tasksAt;
    }

    public void OnRouteChanged() => UpdateRoute();

    public bool OnUnknownAgent(UnknownAgentException ex)
    {
        Log.UnknownAgent(_logger, agent.Identity?.AgentId, ex.Message);
        agent.PreviousAgentId = agent.Identity?.AgentId;
        agent.Identity = null;
        agent.SignalAll();
        return true;
    }

    /// <summary>The policy request, then the task poll (with the Network Status), whichever is due.</summary>
    public async Task<bool> DoHttpWorkAsync(AgentRoute route, CancellationToken stop)
    {
        var now = agent.Time.GetUtcNow();
        var policyDue = now >= agent.NextPolicyRefresh;
        var tasksDue = now >= connection.State.NextTaskPoll;
        if (policyDue)
        {
            try
            {
                await RefreshPolicyAsync(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AgentProtocolException and not UnknownAgentException || AgentContext.IsNetworkFailure(ex, stop))
            {
                Log.PolicyRequestFailed(_logger, route.HostAndPort, ex.Message);
            }

            agent.NextPolicyRefresh = agent.Time.GetUtcNow() + agent.PolicyRefreshInterval;

            // A policy that now allows the channel goes there first; the loop comes back for the tasks.
            if (connection.ChannelWanted(agent.Time.GetUtcNow(), out _, out _))
            {
                return true;
            }
        }

        if (tasksDue)
        {
            try
            {
                await delivery.PollOverHttpAsync(connection, stop).ConfigureAwait(false);
                await PostNetworkStatusIfChangedAsync(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AgentProtocolException and not UnknownAgentException || AgentContext.IsNetworkFailure(ex, stop))
            {
                Log.HttpPollFailed(_logger, route.HostAndPort, ex.Message);
                if (ex is not AgentProtocolException)
                {
                    OnFailure(route, ex.Message);
                }
            }

            connection.State.NextTaskPoll = agent.Time.GetUtcNow() + agent.TaskPollInterval;
        }

        return true;
    }

    /// <summary>Requests the policy (over the channel when it is up, else HTTP) and applies it when it changed.</summary>
    public async Task RefreshPolicyAsync(CancellationToken ct)
    {
        var current = agent.Policy;
        var response = (await connection.Requests.SendAsync(HttpMethod.Get, TcmPaths.Policy, null, current?.Etag, overChannel: true, ct).ConfigureAwait(false))
            .EnsureSuccess("policy request");
        // Any answer to a policy request counts as the policy refresh a refused channel waits for.
        agent.UnblockChannels();
        if (response.Status != 304)
        {
            await agent.ApplyPolicyAsync(response.Read(ProtocolJsonContext.Default.PolicyDocument), "policy request", ct).ConfigureAwait(false);
        }

        agent.SignalAll();
    }

    /// <summary>The Network Status is posted again with the next poll, even when it did not change.</summary>
    public void ForgetPostedStatus()
    {
        lock (_gate)
        {
            _lastPostedStatus = null;
        }
    }

    private async Task RefreshPolicyInBackgroundAsync(CancellationToken ct)
    {
        try
        {
            await RefreshPolicyAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AgentProtocolException || AgentContext.IsNetworkFailure(ex, ct))
        {
            Log.PolicyRequestFailed(_logger, connection.State.Route?.HostAndPort, ex.Message);
        }
    }

    private async Task PostNetworkStatusIfChangedAsync(CancellationToken ct)
    {
        var current = status();
        var comparable = NetworkStatusMapper.WithoutCounters(current);
        lock (_gate)
        {
            if (comparable == _lastPostedStatus)
            {
                return;
            }
        }

        var batch = new EventBatch
        {
            Events = [new AgentEvent { Type = "network-status-changed", At = agent.Time.GetUtcNow() }],
            NetworkStatus = current,
        };
        (await connection.Requests.SendAsync(HttpMethod.Post, TcmPaths.Events, AgentTransport.Serialize(batch, ProtocolJsonContext.Default.EventBatch), null, overChannel: true, ct).ConfigureAwait(false))
            .EnsureSuccess("event post");
        lock (_gate)
        {
            _lastPostedStatus = comparable;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1013, LogLevel.Warning, "The Notification Server does not know agent {AgentId} ({Detail}); registering again with the install package", EventName = "UnknownAgent")]
        public static partial void UnknownAgent(ILogger logger, string? agentId, string detail);

        [LoggerMessage(1041, LogLevel.Warning, "Policy request to '{HostAndPort}' failed: {Reason}", EventName = "PolicyRequestFailed")]
        public static partial void PolicyRequestFailed(ILogger logger, string? hostAndPort, string reason);

        [LoggerMessage(1042, LogLevel.Warning, "HTTP poll of '{HostAndPort}' failed: {Reason}", EventName = "HttpPollFailed")]
        public static partial void HttpPollFailed(ILogger logger, string hostAndPort, string reason);

        [LoggerMessage(1043, LogLevel.Information, "Notification Server '{Failed}' failed ({Reason}); the next attempt goes to server host {Number} of {Count}, '{Next}'", EventName = "NextServerHost")]
        public static partial void NextServerHost(ILogger logger, string failed, string next, int number, int count, string reason);
    }
}
