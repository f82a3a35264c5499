using Microsoft.Extensions.Logging;
using Tcm.Agent.Connection;
using Tcm.Agent.Routing;
using Tcm.Agent.Status;
using Tcm.Agent.Tasks;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Registration;

/// <summary>
/// Registers the agent with its install package until it succeeds (step 1 of the Notification Server connection): through the CEM
/// gateway when the route says so, with the NS connection's back-off between attempts. A new identity starts new delivery
/// bookkeeping, new handlers and the policy the answer carried.
/// </summary>
internal sealed partial class AgentRegistration(AgentContext agent, ConnectionLoop ns, NotificationServerRole nsRole)
{
    private readonly ILogger _logger = agent.Logger;

    public async Task RegisterWithRetryAsync(CancellationToken ct)
    {
        var options = agent.Options;
        var server = RouteResolver.ResolveRoute(options.Package, null).HostAndPort;
        while (true)
        {
            var attempt = ns.Backoff.Attempt + 1;
            // An agent that starts on the internet with CEM settings in its package registers through the gateway.
            var plan = await agent.Routes.EnsureCurrentAsync(ct).ConfigureAwait(false);
            var route = RouteResolver.ResolveRoute(options.Package, null, plan);
            var trust = route.Mode == ConnectionMode.Cem && !string.IsNullOrWhiteSpace(plan.Cem?.GatewayCaCertificatePem)
                ? plan.Cem.GatewayCaCertificatePem
                : options.Package.CaCertificatePem;
            if (route.Mode == ConnectionMode.Cem)
            {
                Log.RegisteringViaGateway(_logger, options.ComputerName, server, route.Gateway!, attempt);
            }
            else
            {
                Log.Registering(_logger, options.ComputerName, server, attempt);
            }

            try
            {
                var identity = await Registrar.RegisterAsync(options, agent.Network, agent.Counters, agent.Time, agent.PreviousAgentId, route, trust, ct).ConfigureAwait(false);
                agent.Counters.AddRegistration();
                // A new agent id starts a new push sequence and owns no earlier results.
                agent.Book = new DeliveryBook();
                agent.Identity = identity;
                agent.Policy = identity.Policy;
                agent.ResetTransports();
                ns.Backoff.Reset();
                await agent.SaveStateAsync(ct).ConfigureAwait(false);
                Log.Registered(_logger, identity.AgentId, server);
                agent.Routes.Request("policy received at registration");
                await agent.Routes.EnsureCurrentAsync(ct).ConfigureAwait(false);
                nsRole.UpdateRoute();
                // Reachable only once the route follows the policy's decision: the Network Status never shows the route the
                // registration took before the policy was known (e.g. "Available directly" over a VPN the policy prefers to avoid).
                ns.State.SetReachable(true);
                ns.State.BlockedUntilPolicy = false;
                nsRole.ForgetPostedStatus();
                agent.StatusMayHaveChanged();
                return;
            }
            catch (Exception ex) when (ex is RegistrationRefusedException or AgentProtocolException || AgentContext.IsNetworkFailure(ex, ct))
            {
                ns.State.SetReachable(ex is RegistrationRefusedException);
                if (ex is not RegistrationRefusedException)
                {
                    agent.Routes.Request("registration failed");
                }

                var delay = ns.Backoff.Next();
                Log.RegistrationFailed(_logger, server, attempt, ex.Message, DelayText.Format(delay));
                await Task.Delay(delay, agent.Time, ct).ConfigureAwait(false);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1010, LogLevel.Information, "Registering '{ComputerName}' with Notification Server '{Server}', attempt {Attempt}", EventName = "Registering")]
        public static partial void Registering(ILogger logger, string computerName, string server, int attempt);

        [LoggerMessage(1014, LogLevel.Information, "Registering '{ComputerName}' with Notification Server '{Server}' through CEM gateway '{Gateway}', attempt {Attempt}", EventName = "RegisteringViaGateway")]
        public static partial void RegisteringViaGateway(ILogger logger, string computerName, string server, string gateway, int attempt);

        [LoggerMessage(1011, LogLevel.Information, "Registered as agent {AgentId} with Notification Server '{Server}'", EventName = "Registered")]
        public static partial void Registered(ILogger logger, string agentId, string server);

        [LoggerMessage(1012, LogLevel.Warning, "Registration with Notification Server '{Server}' failed, attempt {Attempt}: {Reason}. Next attempt in {Delay}", EventName = "RegistrationFailed")]
        public static partial void RegistrationFailed(ILogger logger, string server, int attempt, string reason, string delay);
    }
}
