using Tcm.Agent.Network;
using Tcm.Agent.Routing;
using Tcm.Protocol;

namespace Tcm.Agent.Connection;

/// <summary>
/// What differs between the agent's two connections; everything else (the connect sequence, keep-alive, back-off, refusals, HTTP
/// fallback, delivery) is one <see cref="ConnectionLoop"/>. The core agent's role (<see cref="NotificationServerRole"/>) registers,
/// keeps the policy fresh and posts the Network Status; the Client Task Agent's (<see cref="TaskServerRole"/>) picks a Task Server
/// and fails over to the next one.
/// </summary>
internal interface IConnectionRole
{
    /// <summary>The facts of this connection's kind (<see cref="RoleTraits.NotificationServer"/>, <see cref="RoleTraits.TaskServer"/>).</summary>
    RoleTraits Traits { get; }

    /// <summary>Step 1, while the agent has no identity: the NS role registers; the TS role waits for the NS role's registration.</summary>
    Task AwaitIdentityAsync(CancellationToken stop);

    /// <summary>Step 3, before the choice: what the choice needs measured first (the TS role's connect times for the fastest connection).</summary>
    Task PrepareChoiceAsync(CancellationToken stop);

    /// <summary>Step 3: whom to call now, or null when there is nobody (no Task Server in the policy).</summary>
    AgentRoute? ChooseRoute(DateTimeOffset now);

    /// <summary>The route of a request made now: the current one, or a fresh choice (throws when there is nobody to call).</summary>
    AgentRoute RouteForRequest();

    /// <summary>The servers named in the "CEM gateway connection is preferred while connecting to ..." line.</summary>
    string CemTargets(AgentRoute route);

    /// <summary>Step 10: the channel is up.</summary>
    void OnWelcome(WelcomeMessage welcome);

    /// <summary>A refusal or a lost channel the role handles itself (the TS role fails over); false for the common handling.</summary>
    bool TryHandleLoss(AgentRoute route, string? code, string reason, bool refused);

    /// <summary>
    /// The server at <paramref name="route"/> failed (no connection, a failure that may pass, a channel lost): the agent backs off before
    /// its next attempt. The NS role moves to the policy's next server host, so that attempt goes to another Notification Server node.
    /// </summary>
    void OnFailure(AgentRoute route, string reason)
    {
    }

    /// <summary>A channel that was up dropped at <paramref name="now"/> (the NS role schedules its policy request).</summary>
    void OnChannelDropped(DateTimeOffset now);

    /// <summary>Step 12: the HTTP work that is due; false to go round at once without waiting.</summary>
    Task<bool> DoHttpWorkAsync(AgentRoute route, CancellationToken stop);

    /// <summary>When the HTTP work is due next.</summary>
    DateTimeOffset NextHttpWork();

    /// <summary>The routing decision changed (the NS role follows it at once, also for HTTP requests).</summary>
    void OnRouteChanged();

    /// <summary>The server does not know the agent; true when the role handled it (the NS role registers again).</summary>
    bool OnUnknownAgent(UnknownAgentException ex);
}

/// <summary>The facts that tell the agent's two kinds of connection apart, one row per kind.</summary>
/// <param name="Role">The channel role the hello names.</param>
/// <param name="Purpose">What <see cref="INetwork"/> accounts the connection's traffic as.</param>
/// <param name="ServerKind">"Notification Server" or "Task Server", for log lines.</param>
/// <param name="ServerEnforcesPolicy">
/// Whether the server itself closes a channel its policy no longer allows. The Notification Server does; a Task Server does not know
/// the NS's settings, so the agent closes that channel itself.
/// </param>
internal sealed record RoleTraits(ChannelRole Role, TrafficPurpose Purpose, string ServerKind, bool ServerEnforcesPolicy)
{
    /// <summary>The core agent's connection to its Notification Server.</summary>
    public static RoleTraits NotificationServer { get; } = new(ChannelRole.NotificationServer, TrafficPurpose.Management, "Notification Server", ServerEnforcesPolicy: true);

    /// <summary>The Client Task Agent's connection to a Task Server.</summary>
    public static RoleTraits TaskServer { get; } = new(ChannelRole.TaskServer, TrafficPurpose.TaskServer, "Task Server", ServerEnforcesPolicy: false);
}
