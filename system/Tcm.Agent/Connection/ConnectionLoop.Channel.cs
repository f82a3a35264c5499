using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Routing;
using Tcm.Agent.Status;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Connection;

// Steps 5 to 11 of the connect sequence (see the class): the channel from its attempt to its end, and what its end means.
internal sealed partial class ConnectionLoop
{
    private static readonly HashSet<string> RefusalCodes =
        [CloseReasons.TcmDisabled, CloseReasons.NotTargeted, CloseReasons.BadCertificate];

    /// <summary>How long the agent works over HTTP after the server terminated its channel.</summary>
    internal static readonly TimeSpan DefaultTerminateDelay = TimeSpan.FromSeconds(60);

    private async Task RunChannelAsync(AgentRoute route, CancellationToken stop)
    {
        var attempt = Backoff.Attempt + 1;
        var host = route.HostAndPort;

        // :: Step 5: log the attempt
        Channels.LogAttempt(route, _role.CemTargets(route), attempt);

        // :: Step 6: open the WebSocket through the agent's handler
        var opened = await Channels.OpenAsync(route, TransportFor(route), stop).ConfigureAwait(false);
        State.Attempted(opened.Attempt!, opened.BackendTls);
        if (opened.Socket is not { } socket)
        {
            // :: Step 7: a refusal (status + X-Tcm-Refusal), or a failure; the attempt says what answered
            var tried = opened.Attempt!;
            Log.AttemptFailed(_logger, tried.Route == ConnectionMode.Cem ? "CEM gateway" : "target server", host, tried.Address, tried.Route, tried.Proxy ?? "none", tried.Outcome, tried.Detail ?? "");
            if (opened.Status >= 400)
            {
                // The gateway answering for a server it cannot reach (or does not relay to) is no sign of the server.
                SetReachable(!AttemptReport.GatewayAnsweredForMissingServer(opened.Refusal));
                OnRefused(route, opened.Status, opened.Refusal, opened.RetryAfter);
                return;
            }

            SetReachable(false);
            BackOff(route, $"connection failed: {opened.Failure}");
            return;
        }

        // :: Step 8: connected; hello
        Log.TargetConnected(_logger, host);
        SetReachable(true);
        var channel = new AgentChannel(socket, _agent.Time) { Counters = Counters };
        var connected = false;
        string? failure = null;
        try
        {
            // :: Step 9: welcome within the hello timeout
            var (welcome, handshakeFailure) = await Channels.HandshakeAsync(channel, route, stop).ConfigureAwait(false);
            failure = handshakeFailure;
            if (welcome is null)
            {
                return;
            }

            // :: Step 10: persistent
            channel.MaxMessageBytes = welcome.MaxMessageBytes > 0 ? welcome.MaxMessageBytes : ProtocolConstants.DefaultMaxMessageBytes;
            channel.AckHold = welcome.AcksWithResults ? _agent.Options.AckHoldLimit : TimeSpan.Zero;
            var previousReason = State.Connected(channel, _agent.Time.GetUtcNow());
            if (!route.Plan.SameRouteAs(_agent.Routes.Plan))
            {
                // The decision changed while this channel was connecting: it moves to the new route like the others.
                State.RequestRouteChange();
                await CloseForRouteChangeAsync(channel, _agent.Routes.Plan, stop).ConfigureAwait(false);
            }
            else if (!_role.Traits.ServerEnforcesPolicy && PolicyRefusal(_agent.Policy) is { } reason && State.RequestPolicyClose() is not null)
            {
                // The policy turned the channel off while it was connecting.
                await CloseForPolicyAsync(channel, reason, stop).ConfigureAwait(false);
            }

            connected = true;
            Backoff.Reset();
            Counters.AddChannelConnect();
            if (Counters.ChannelConnects > 1 && previousReason is not null)
            {
                Log.ReturnToChannel(_logger, host, previousReason);
            }

            Log.ChannelEstablished(_logger, host, welcome.ServerName, welcome.ConnectionId);
            _agent.StatusMayHaveChanged();
            _role.OnWelcome(welcome);
            foreach (var result in _agent.Book.PendingResults(Role))
            {
                await channel.SendAsync(result, stop).ConfigureAwait(false);
                _agent.Counters.AddResultSent();
            }

            // :: Step 11: receive and dispatch until the channel ends
            while (await channel.ReceiveAsync(stop).ConfigureAwait(false) is { } message)
            {
                await Channels.DispatchAsync(channel, route, message, stop).ConfigureAwait(false);
            }
        }
        catch (ChannelProtocolException ex)
        {
            failure = ex.Message;
            Log.ProtocolError(_logger, host, ex.Message);
            await channel.CloseAsync(ex.CloseStatus, ex.Message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (!stop.IsCancellationRequested && AgentContext.IsNetworkFailure(ex, stop))
        {
            failure = ChannelClient.Describe(ex);
        }
        finally
        {
            // :: Step 11 (end): classify the end, release the channel, schedule what comes next
            State.Disconnected();
            channel.FailPending("the persistent connection closed");
            var closeStatus = channel.CloseStatus;
            var description = channel.CloseStatusDescription;
            if (socket.State == WebSocketState.CloseReceived)
            {
                await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).ConfigureAwait(false);
            }

            channel.Dispose();
            if (!connected && (failure ?? description) is { Length: > 0 } ended && State.LastAttempt is { } took)
            {
                // The server took the socket but closed it before its welcome: that is what answered this attempt.
                State.Attempted(AttemptReport.ClosedBeforeWelcome(took, ended), State.BackendTls);
            }

            if (!_agent.Stopping && !stop.IsCancellationRequested)
            {
                OnChannelEnded(route, connected, closeStatus, description, failure);
            }
        }
    }

    private void OnRefused(AgentRoute route, int status, string? code, TimeSpan? retryAfter)
    {
        code ??= $"http-{status}";
        var detail = ChannelClient.DescribeRefusal(code, status);
        if (code == CloseReasons.ServerBusy)
        {
            // Not a refusal of this agent: the server asks it to come back later. Honour the hint, spread by the back-off's jitter.
            BackOff(route, $"{code}: {detail}", retryAfter ?? TimeSpan.Zero);
            return;
        }

        _agent.Counters.AddRefusal();
        Log.ChannelRefused(_logger, route.HostAndPort, status, code, detail);
        if (_role.TryHandleLoss(route, code, $"{code}: {detail}", refused: true))
        {
            return;
        }

        if (code == CloseReasons.UnknownAgent)
        {
            throw new UnknownAgentException($"channel refused with HTTP {status} {code}");
        }

        if (RefusalCodes.Contains(code))
        {
            FallBackUntilPolicy(route, $"{code}: {detail}");
            return;
        }

        // Anything else (404, 5xx, an overloaded proxy) is a failure that may pass: back off.
        BackOff(route, $"{code}: {detail}");
    }

    private void OnChannelEnded(AgentRoute route, bool wasConnected, WebSocketCloseStatus? closeStatus, string? description, string? failure)
    {
        if (closeStatus is not null || description is not null)
        {
            Log.ChannelClosed(_logger, route.HostAndPort, closeStatus?.ToString() ?? "-", description ?? "");
        }

        if (State.TakeRouteChangeRequested())
        {
            // Not a failure: the routing decision changed; reconnect at once on the new route.
            State.TakePolicyCloseRequested();
            Signal.Set();
            _agent.StatusMayHaveChanged();
            return;
        }

        var (code, detail) = ChannelClient.SplitReason(description);
        if (wasConnected)
        {
            // A fleet that loses its server must not poll it all at once: spread the first HTTP poll over one interval.
            var now = _agent.Time.GetUtcNow();
            State.NextTaskPoll = now + _agent.TaskPollInterval * Random.Shared.NextDouble();
            _role.OnChannelDropped(now);
        }

        if (State.TakeTerminateRequested())
        {
            _agent.StatusMayHaveChanged();
            return;
        }

        if (State.TakePolicyCloseRequested())
        {
            // Closed by the agent because the policy no longer allows it: HTTP until a policy allows it again.
            FallBackUntilPolicy(route, PolicyRefusal(_agent.Policy) ?? "the policy no longer allows a persistent connection");
            return;
        }

        var reason = failure ?? (description is { Length: > 0 } ? $"closed: {description}" : "connection lost");
        if (code is not CloseReasons.Terminated && _role.TryHandleLoss(route, code, reason, refused: false))
        {
            return;
        }

        if (code == CloseReasons.UnknownAgent)
        {
            throw new UnknownAgentException($"channel closed: {description}");
        }

        if (code is not null && RefusalCodes.Contains(code))
        {
            _agent.Counters.AddRefusal();
            FallBackUntilPolicy(route, $"{code}: {detail}");
            return;
        }

        if (code == CloseReasons.Terminated)
        {
            var delay = DefaultTerminateDelay;
            State.ChannelNotBefore = _agent.Time.GetUtcNow() + delay;
            SetHttpReason($"{code}: {detail}; reconnecting after {DelayText.Format(delay)}");
            Log.Terminated(_logger, route.HostAndPort, detail, DelayText.Format(delay));
            return;
        }

        BackOff(route, reason);
    }

    private static partial class Log
    {
        [LoggerMessage(1021, LogLevel.Information, "Target server '{HostAndPort}' connected", EventName = "TargetConnected")]
        public static partial void TargetConnected(ILogger logger, string hostAndPort);

        [LoggerMessage(1022, LogLevel.Information, "Persistent connection to '{HostAndPort}' established: server '{ServerName}', connection {ConnectionId}", EventName = "ChannelEstablished")]
        public static partial void ChannelEstablished(ILogger logger, string hostAndPort, string serverName, string connectionId);

        [LoggerMessage(1023, LogLevel.Warning, "Target server '{HostAndPort}' refused the persistent connection: HTTP {Status} {Code}: {Detail}", EventName = "ChannelRefused")]
        public static partial void ChannelRefused(ILogger logger, string hostAndPort, int status, string code, string detail);

        [LoggerMessage(1026, LogLevel.Information, "Returned to the persistent connection with '{HostAndPort}' (was HTTP: {PreviousReason})", EventName = "ReturnToChannel")]
        public static partial void ReturnToChannel(ILogger logger, string hostAndPort, string previousReason);

        [LoggerMessage(1027, LogLevel.Information, "Persistent connection to '{HostAndPort}' closed: {CloseStatus} '{Description}'", EventName = "ChannelClosed")]
        public static partial void ChannelClosed(ILogger logger, string hostAndPort, string closeStatus, string description);

        [LoggerMessage(1028, LogLevel.Warning, "Connecting to {Kind} '{Server}' at {Address} failed (route {Route}, proxy {Proxy}): {Outcome}: {Detail}", EventName = "AttemptFailed")]
        public static partial void AttemptFailed(ILogger logger, string kind, string server, string address, ConnectionMode route, string proxy, AttemptOutcome outcome, string detail);

        [LoggerMessage(1029, LogLevel.Information, "Persistent connection to '{HostAndPort}' terminated ({Reason}); using HTTP, reconnecting after {Delay}", EventName = "Terminated")]
        public static partial void Terminated(ILogger logger, string? hostAndPort, string reason, string delay);

        [LoggerMessage(1031, LogLevel.Warning, "Closing the persistent connection to '{HostAndPort}': {Reason}", EventName = "ProtocolError")]
        public static partial void ProtocolError(ILogger logger, string hostAndPort, string reason);
    }
}
