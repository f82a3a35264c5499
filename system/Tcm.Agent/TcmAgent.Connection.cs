using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Connection;
using Tcm.Protocol;
using ProtocolHttpRequest = Tcm.Protocol.HttpRequestMessage;
using ProtocolHttpResponse = Tcm.Protocol.HttpResponseMessage;

namespace Tcm.Agent;

// The connection loop: whom to call, the persistent channel, HTTP polling as fallback.
public sealed partial class TcmAgent
{
    private static readonly HashSet<string> RefusalCodes =
        [CloseReasons.TcmDisabled, CloseReasons.NotTargeted, CloseReasons.BadCertificate];

    private async Task RunLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && !_stopping)
        {
            try
            {
                if (_identity is null)
                {
                    await RegisterWithRetryAsync(stop).ConfigureAwait(false);
                    continue;
                }

                await _routes.EnsureCurrentAsync(stop).ConfigureAwait(false);
                var route = UpdateRoute();
                var now = _time.GetUtcNow();
                if (ChannelWanted(_ns, now, out var notWantedReason, out var channelDue))
                {
                    await RunChannelAsync(_ns, route, stop).ConfigureAwait(false);
                    continue;
                }

                if (notWantedReason is not null)
                {
                    SetHttpReason(_ns, notWantedReason);
                }

                await DoDueHttpWorkAsync(route, stop).ConfigureAwait(false);

                DateTimeOffset wakeAt;
                lock (_gate)
                {
                    wakeAt = _nextPolicyRefresh < _ns.NextTaskPoll ? _nextPolicyRefresh : _ns.NextTaskPoll;
                }

                if (channelDue is { } due && due < wakeAt)
                {
                    wakeAt = due;
                }

                await _ns.Signal.WaitAsync(wakeAt - _time.GetUtcNow(), stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (UnknownAgentException ex)
            {
                Log.UnknownAgent(_logger, AgentId, ex.Message);
                _previousAgentId = AgentId;
                _identity = null;
                _ts.Signal.Set();
            }
            catch (Exception ex)
            {
                var delay = _ns.Backoff.Next();
                Log.LoopFailed(_logger, Format(delay), ex);
                try
                {
                    await _ns.Signal.WaitAsync(delay, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Whether to open the channel now. When not: the reason to show (null to keep the current one, e.g. a refusal or back-off)
    /// and, when the policy allows the channel, when it is due again.
    /// </summary>
    private bool ChannelWanted(ServerConnection connection, DateTimeOffset now, out string? reason, out DateTimeOffset? due)
    {
        due = null;
        var policy = _policy;
        if (policy is null || !policy.TcmEnabled)
        {
            reason = $"{CloseReasons.TcmDisabled}: TCM communication is off on the Notification Server";
            return false;
        }

        if (!policy.Communication.PersistentConnection)
        {
            reason = $"{CloseReasons.NotTargeted}: the communication profile does not enable persistent connections";
            return false;
        }

        reason = null;
        lock (_gate)
        {
            if (connection.ChannelBlockedUntilPolicy)
            {
                return false;
            }

            if (now < connection.ChannelNotBefore)
            {
                due = connection.ChannelNotBefore;
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Connects the persistent channel and runs it until it ends.
    /// <list type="number">
    /// <item>Log the attempt in the product's words ("Connecting to target server ..., attempt n").</item>
    /// <item>Open the WebSocket through the agent's handler: TCP from <see cref="Network.INetwork"/>, TLS against the package CA with the
    /// client certificate, HTTP/2 extended CONNECT or HTTP/1.1 upgrade, sub-protocol <c>tcm.v1</c>.</item>
    /// <item>A refused upgrade: read the status and <c>X-Tcm-Refusal</c>, fall back to HTTP until the next policy (re-register on unknown-agent).
    /// A failure: back off.</item>
    /// <item>Log "Target server '{host}:{port}' connected".</item>
    /// <item>Send hello with the last received push sequence number (which acknowledges everything up to it).</item>
    /// <item>Wait for welcome (<see cref="AgentOptions.HelloTimeout"/>); a close or error instead is a refusal or a failure.</item>
    /// <item>Become persistent: reset the back-off, request the policy when the welcome's ETag differs, re-send unacknowledged results.</item>
    /// <item>Receive and dispatch messages until the channel closes, is terminated, or the agent stops.</item>
    /// <item>Classify the end (dropped, refused, terminated, stopped), fail pending requests so they retry over HTTP, schedule the next attempt.</item>
    /// </list>
    /// </summary>
    private async Task RunChannelAsync(ServerConnection conn, AgentRoute route, CancellationToken stop)
    {
        var transport = TransportFor(conn, route);
        var attempt = conn.Backoff.Attempt + 1;
        var uri = route.ChannelUri;
        var host = route.HostAndPort;

        // :: Step 1: log the attempt
        if (route.Mode == Protocol.Admin.ConnectionMode.Cem)
        {
            Log.CemPreferred(_logger, CemTargets(conn, route));
            Log.ConnectingToGateway(_logger, host[..host.LastIndexOf(':')], route.BaseAddress.Host, route.BaseAddress.Port, attempt);
        }
        else
        {
            Log.Connecting(_logger, route.BaseAddress.Host, uri.GetLeftPart(UriPartial.Authority), attempt);
        }

        // :: Step 2: open the WebSocket through the agent's handler
        var socket = new ClientWebSocket();
        socket.Options.HttpVersion = _options.HttpVersion;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
        socket.Options.AddSubProtocol(ProtocolConstants.SubProtocol);
        socket.Options.CollectHttpResponseDetails = true;
        var keepAlive = _policy?.Settings.KeepAliveSeconds is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : ProtocolConstants.DefaultKeepAliveInterval;
        socket.Options.KeepAliveInterval = keepAlive;
        socket.Options.KeepAliveTimeout = ProtocolConstants.DefaultKeepAliveTimeout;

        using (var timeout = new CancellationTokenSource(_options.RequestTimeout, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token))
        {
            try
            {
                await socket.ConnectAsync(uri, transport.Invoker, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                socket.Dispose();
                throw;
            }
            catch (Exception ex)
            {
                // :: Step 3: a refusal (status + X-Tcm-Refusal), or a failure
                var status = (int)socket.HttpStatusCode;
                var refusal = FindHeader(socket.HttpResponseHeaders, AgentTransport.RefusalHeader);
                socket.Dispose();
                if (status >= 400)
                {
                    SetReachable(conn, true);
                    OnRefused(conn, route, status, refusal);
                    return;
                }

                var reason = timeout.IsCancellationRequested ? $"no answer within {Format(_options.RequestTimeout)}" : Describe(ex);
                SetReachable(conn, false);
                Log.ConnectFailed(_logger, host, reason);
                BackOff(conn, route, $"connection failed: {reason}");
                return;
            }
        }

        // The response headers are only needed for a refusal; an idle agent must not keep them.
        socket.HttpResponseHeaders = null;

        // :: Step 4: connected
        Log.TargetConnected(_logger, host);
        SetReachable(conn, true);
        var channel = new AgentChannel(socket, _time);
        var connected = false;
        string? failure = null;
        try
        {
            // :: Step 5: hello
            await channel.SendAsync(new HelloMessage
            {
                ProtocolVersion = ProtocolConstants.Version,
                AgentId = _identity!.AgentId,
                AgentVersion = _options.AgentVersion,
                Role = conn.Role,
                LastReceivedSeq = _book.LastReceivedSeq(conn.Role),
                Route = route.Mode == Protocol.Admin.ConnectionMode.Cem ? "cem" : "direct",
            }, stop).ConfigureAwait(false);

            // :: Step 6: welcome within the hello timeout
            Message? first;
            using (var helloTimeout = new CancellationTokenSource(_options.HelloTimeout, _time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, helloTimeout.Token))
            {
                try
                {
                    first = await channel.ReceiveAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (helloTimeout.IsCancellationRequested && !stop.IsCancellationRequested)
                {
                    failure = $"no welcome within {Format(_options.HelloTimeout)}";
                    return;
                }
            }

            if (first is not WelcomeMessage welcome)
            {
                if (first is ErrorMessage error)
                {
                    Log.ServerError(_logger, host, error.Code, error.Detail, error.Fatal);
                    failure = $"{error.Code}: {error.Detail}";
                    // The server closes after a fatal error; its close reason classifies the end.
                    first = await channel.ReceiveAsync(stop).ConfigureAwait(false);
                }

                if (first is null)
                {
                    failure = null;
                    return;
                }

                failure ??= $"{CloseReasons.ProtocolViolation}: expected welcome, got {first.GetType().Name}";
                await channel.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, failure, stop).ConfigureAwait(false);
                return;
            }

            // :: Step 7: persistent
            channel.MaxMessageBytes = welcome.MaxMessageBytes > 0 ? welcome.MaxMessageBytes : ProtocolConstants.DefaultMaxMessageBytes;
            string? previousReason;
            lock (_gate)
            {
                previousReason = conn.HttpReason;
                conn.HttpReason = null;
                conn.ConnectedSince = _time.GetUtcNow();
                conn.Channel = channel;
            }

            if (!route.Plan.SameRouteAs(_routes.Plan))
            {
                // The decision changed while this channel was connecting: it moves to the new route like the others.
                lock (_gate)
                {
                    conn.RouteChangeRequested = true;
                }

                await CloseForRouteChangeAsync(channel, _routes.Plan).ConfigureAwait(false);
            }

            connected = true;
            conn.Backoff.Reset();
            conn.Counters.AddChannelConnect();
            if (conn.Counters.ChannelConnects > 1 && previousReason is not null)
            {
                Log.ReturnToChannel(_logger, host, previousReason);
            }

            Log.ChannelEstablished(_logger, host, welcome.ServerName, welcome.ConnectionId);
            RaiseStatusChangedIfNeeded();
            if (conn.Role == ChannelRole.NotificationServer && welcome.PolicyEtag is { } etag && etag != _policy?.Etag)
            {
                // In the background: the answer arrives through this very receive loop.
                StartBackground(RefreshPolicyInBackgroundAsync);
            }

            foreach (var result in _book.PendingResults(conn.Role))
            {
                await channel.SendAsync(result, stop).ConfigureAwait(false);
                Counters.AddResultSent();
            }

            // :: Step 8: receive and dispatch until the channel ends
            while (await channel.ReceiveAsync(stop).ConfigureAwait(false) is { } message)
            {
                await DispatchAsync(conn, channel, route, message, stop).ConfigureAwait(false);
            }
        }
        catch (ChannelProtocolException ex)
        {
            failure = ex.Message;
            Log.ProtocolError(_logger, host, ex.Message);
            await channel.CloseOutputAsync(ex.CloseStatus, ex.Message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (!stop.IsCancellationRequested && IsNetworkFailure(ex, stop))
        {
            failure = Describe(ex);
        }
        finally
        {
            // :: Step 9: classify the end, release the channel, schedule what comes next
            lock (_gate)
            {
                conn.Channel = null;
                conn.ConnectedSince = null;
            }

            channel.FailPending("the persistent connection closed");
            var closeStatus = channel.CloseStatus;
            var description = channel.CloseStatusDescription;
            if (socket.State == WebSocketState.CloseReceived)
            {
                await channel.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).ConfigureAwait(false);
            }

            channel.Dispose();
            if (!_stopping && !stop.IsCancellationRequested)
            {
                OnChannelEnded(conn, route, connected, closeStatus, description, failure);
            }
        }
    }

    private void OnRefused(ServerConnection conn, AgentRoute route, int status, string? code)
    {
        Counters.AddRefusal();
        code ??= $"http-{status}";
        var detail = DescribeRefusal(code, status);
        Log.ChannelRefused(_logger, route.HostAndPort, status, code, detail);
        if (conn.Role == ChannelRole.TaskServer && code is CloseReasons.TaskServerFull or CloseReasons.BadCertificate or CloseReasons.UnknownAgent)
        {
            FailOver(conn, route, $"{code}: {detail}");
            return;
        }

        if (code == CloseReasons.UnknownAgent)
        {
            throw new UnknownAgentException($"channel refused with HTTP {status} {code}");
        }

        if (RefusalCodes.Contains(code))
        {
            FallBackUntilPolicy(conn, route, $"{code}: {detail}");
            return;
        }

        // Anything else (404, 5xx, an overloaded proxy) is a failure that may pass: back off.
        BackOff(conn, route, $"{code}: {detail}");
    }

    private void OnChannelEnded(ServerConnection conn, AgentRoute route, bool wasConnected, WebSocketCloseStatus? closeStatus, string? description, string? failure)
    {
        if (closeStatus is not null || description is not null)
        {
            Log.ChannelClosed(_logger, route.HostAndPort, closeStatus?.ToString() ?? "-", description ?? "");
        }

        bool routeChanged;
        lock (_gate)
        {
            routeChanged = conn.RouteChangeRequested;
            conn.RouteChangeRequested = false;
        }

        if (routeChanged)
        {
            // Not a failure: the routing decision changed; reconnect at once on the new route.
            conn.Signal.Set();
            RaiseStatusChangedIfNeeded();
            return;
        }

        var (code, detail) = SplitReason(description);
        if (wasConnected)
        {
            // A fleet that loses its server must not poll it all at once: spread the first HTTP poll over one interval.
            var now = _time.GetUtcNow();
            lock (_gate)
            {
                conn.NextTaskPoll = now + TaskPollInterval * Random.Shared.NextDouble();
                if (conn.Role == ChannelRole.NotificationServer)
                {
                    _nextPolicyRefresh = now + PolicyRefreshInterval;
                }
            }
        }

        bool terminated;
        lock (_gate)
        {
            terminated = conn.TerminateRequested;
            conn.TerminateRequested = false;
        }

        if (terminated)
        {
            RaiseStatusChangedIfNeeded();
            return;
        }

        if (conn.Role == ChannelRole.TaskServer && code is not CloseReasons.Terminated)
        {
            // The Client Task Agent does not wait for a Task Server that went away or turned it down: it tries the next one.
            FailOver(conn, route, failure ?? (description is { Length: > 0 } ? $"closed: {description}" : "connection lost"));
            return;
        }

        if (code == CloseReasons.UnknownAgent)
        {
            throw new UnknownAgentException($"channel closed: {description}");
        }

        if (code is not null && RefusalCodes.Contains(code))
        {
            Counters.AddRefusal();
            FallBackUntilPolicy(conn, route, $"{code}: {detail}");
            return;
        }

        if (code == CloseReasons.Terminated)
        {
            var delay = DefaultTerminateDelay;
            lock (_gate)
            {
                conn.ChannelNotBefore = _time.GetUtcNow() + delay;
            }

            SetHttpReason(conn, $"{code}: {detail}; reconnecting after {Format(delay)}");
            Log.Terminated(_logger, route.HostAndPort, detail, Format(delay));
            return;
        }

        BackOff(conn, route, failure ?? (description is { Length: > 0 } ? $"closed: {description}" : "connection lost"));
    }

    private void FallBackUntilPolicy(ServerConnection conn, AgentRoute route, string reason)
    {
        DateTimeOffset policyAt, tasksAt;
        lock (_gate)
        {
            conn.ChannelBlockedUntilPolicy = true;
            policyAt = _nextPolicyRefresh;
            tasksAt = conn.NextTaskPoll;
        }

        SetHttpReason(conn, reason);
        var now = _time.GetUtcNow();
        Log.FallbackToHttp(_logger, route.HostAndPort, reason, Format(Max(policyAt - now, TimeSpan.Zero)), Format(Max(tasksAt - now, TimeSpan.Zero)));
    }

    private void BackOff(ServerConnection conn, AgentRoute route, string reason)
    {
        var attempt = conn.Backoff.Attempt + 1;
        var delay = conn.Backoff.Next();
        lock (_gate)
        {
            conn.ChannelNotBefore = _time.GetUtcNow() + delay;
        }

        SetHttpReason(conn, $"reconnecting: {reason}");
        Log.Backoff(_logger, route.HostAndPort, Format(delay), attempt, reason);
    }

    private void SetHttpReason(ServerConnection conn, string reason)
    {
        lock (_gate)
        {
            if (conn.HttpReason == reason)
            {
                return;
            }

            conn.HttpReason = reason;
        }

        RaiseStatusChangedIfNeeded();
    }

    private async Task DispatchAsync(ServerConnection conn, AgentChannel channel, AgentRoute route, Message message, CancellationToken stop)
    {
        switch (message)
        {
            case PushMessage push:
                await HandlePushAsync(conn, push, channel, stop).ConfigureAwait(false);
                break;

            case AckMessage { Keys: { Count: > 0 } keys }:
                var any = false;
                foreach (var key in keys)
                {
                    if (_book.Acknowledge(key))
                    {
                        Counters.AddResultAcknowledged();
                        any = true;
                    }
                }

                if (any)
                {
                    await SaveStateAsync(stop).ConfigureAwait(false);
                }

                break;

            case ProtocolHttpResponse response:
                channel.Complete(response);
                break;

            case ProtocolHttpRequest request:
                await channel.SendAsync(AnswerServerRequest(request), stop).ConfigureAwait(false);
                break;

            case TerminateMessage terminate:
                var delay = TimeSpan.FromSeconds(Math.Max(0, terminate.ReconnectAfterSeconds));
                lock (_gate)
                {
                    conn.ChannelNotBefore = _time.GetUtcNow() + delay;
                    conn.TerminateRequested = true;
                    conn.HttpReason = $"{CloseReasons.Terminated}: {terminate.Reason}; reconnecting after {Format(delay)}";
                }

                Log.Terminated(_logger, route.HostAndPort, terminate.Reason, Format(delay));
                await channel.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, $"{CloseReasons.Terminated}: closing as asked", stop).ConfigureAwait(false);
                break;

            case ErrorMessage error:
                Log.ServerError(_logger, route.HostAndPort, error.Code, error.Detail, error.Fatal);
                break;

            default:
                Log.UnexpectedMessage(_logger, route.HostAndPort, message.GetType().Name);
                break;
        }
    }

    /// <summary>The server's own requests over the channel: only <c>GET /tcm/agent/status</c> (the Network Status panel).</summary>
    private ProtocolHttpResponse AnswerServerRequest(ProtocolHttpRequest request)
    {
        var path = request.Path.Split('?', 2)[0];
        if (string.Equals(request.Method, "GET", StringComparison.OrdinalIgnoreCase) && path == AgentStatusPath)
        {
            return new ProtocolHttpResponse
            {
                Id = request.Id,
                Status = 200,
                Body = JsonSerializer.SerializeToElement(GetNetworkStatus(), ProtocolJsonContext.Default.NetworkStatus),
            };
        }

        return new ProtocolHttpResponse
        {
            Id = request.Id,
            Status = 404,
            Body = JsonSerializer.SerializeToElement(
                new ErrorBody { Code = "not-found", Detail = $"the agent answers only GET {AgentStatusPath}, not {request.Method} {request.Path}" },
                ProtocolJsonContext.Default.ErrorBody),
        };
    }

    /// <summary>The path under which the server asks a connected agent for its Network Status.</summary>
    internal const string AgentStatusPath = TcmPaths.AgentStatus;

    /// <summary>
    /// An ordinary agent request: as <c>http.request</c> over the channel while it is up (failing fast to HTTP when it drops or times out),
    /// else over HTTP. Network failures throw; HTTP statuses are returned.
    /// </summary>
    private async Task<AgentResponse> SendRequestAsync(HttpMethod method, string path, byte[]? body, string? ifNoneMatch, CancellationToken ct)
    {
        if (_ns.Channel is { } channel)
        {
            try
            {
                var headers = ifNoneMatch is null ? null : new Dictionary<string, string> { ["If-None-Match"] = $"\"{ifNoneMatch}\"" };
                JsonElement? element = body is null ? null : JsonElement.Parse(body);
                Counters.AddChannelRequest();
                var response = await channel.RequestAsync(method.Method, path, headers, element, _options.RequestTimeout, ct).ConfigureAwait(false);
                var etag = FindHeader(response.Headers, "ETag")?.Trim('"');
                return new AgentResponse(response.Status, etag, FindHeader(response.Headers, AgentTransport.RefusalHeader), response.Body);
            }
            catch (Exception ex) when (ex is AgentChannelClosedException or TimeoutException)
            {
                Log.RequestRetriedOverHttp(_logger, method.Method, path, ex.Message);
            }
        }

        var route = _ns.Route ?? UpdateRoute();
        var transport = TransportFor(_ns, route);
        try
        {
            var answer = await transport.SendAsync(method, route.For(path), body, ifNoneMatch, _time, _options.RequestTimeout, ct).ConfigureAwait(false);
            SetReachable(_ns, true);
            return answer;
        }
        catch (Exception ex) when (IsNetworkFailure(ex, ct))
        {
            SetReachable(_ns, false);
            throw;
        }
    }

    private async Task RefreshPolicyAsync(CancellationToken ct)
    {
        var current = _policy;
        var response = (await SendRequestAsync(HttpMethod.Get, TcmPaths.Policy, null, current?.Etag, ct).ConfigureAwait(false)).EnsureSuccess("policy request");
        lock (_gate)
        {
            // Any answer to a policy request counts as the policy refresh a refused channel waits for.
            _ns.ChannelBlockedUntilPolicy = false;
            _ts.ChannelBlockedUntilPolicy = false;
        }

        if (response.Status != 304)
        {
            await ApplyPolicyAsync(response.Read(ProtocolJsonContext.Default.PolicyDocument), "policy request", ct).ConfigureAwait(false);
        }

        _ns.Signal.Set();
        _ts.Signal.Set();
    }

    private async Task RefreshPolicyInBackgroundAsync(CancellationToken ct)
    {
        try
        {
            await RefreshPolicyAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AgentProtocolException || IsNetworkFailure(ex, ct))
        {
            Log.PolicyRequestFailed(_logger, _ns.Route?.HostAndPort, ex.Message);
        }
    }

    private async Task ApplyPolicyAsync(PolicyDocument policy, string source, CancellationToken ct)
    {
        var previous = _policy;
        _policy = policy;
        lock (_gate)
        {
            _ns.ChannelBlockedUntilPolicy = false;
            _ts.ChannelBlockedUntilPolicy = false;
        }

        if (RoutingInputsChanged(previous, policy))
        {
            // Applied without a restart: both connections move if the decision changes.
            _routes.Request($"policy {policy.Etag} from {source}");
            StartBackground(ReevaluateInBackgroundAsync);
        }

        if (previous?.Etag != policy.Etag)
        {
            Log.PolicyApplied(_logger, policy.Etag, source, policy.TcmEnabled, policy.Communication.PersistentConnection, policy.Communication.ProfileName);
        }

        await SaveStateAsync(ct).ConfigureAwait(false);
        _ns.Signal.Set();
        _ts.Signal.Set();
    }

    private async Task DoDueHttpWorkAsync(AgentRoute route, CancellationToken stop)
    {
        var now = _time.GetUtcNow();
        bool policyDue, tasksDue;
        lock (_gate)
        {
            policyDue = now >= _nextPolicyRefresh;
            tasksDue = now >= _ns.NextTaskPoll;
        }

        if (policyDue)
        {
            try
            {
                await RefreshPolicyAsync(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AgentProtocolException and not UnknownAgentException || IsNetworkFailure(ex, stop))
            {
                Log.PolicyRequestFailed(_logger, route.HostAndPort, ex.Message);
            }

            lock (_gate)
            {
                _nextPolicyRefresh = _time.GetUtcNow() + PolicyRefreshInterval;
            }

            // A policy that now allows the channel goes there first; the loop comes back for the tasks.
            if (ChannelWanted(_ns, _time.GetUtcNow(), out _, out _))
            {
                return;
            }
        }

        if (tasksDue)
        {
            try
            {
                await PollOverHttpAsync(_ns, stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AgentProtocolException and not UnknownAgentException || IsNetworkFailure(ex, stop))
            {
                Log.HttpPollFailed(_logger, route.HostAndPort, ex.Message);
            }

            lock (_gate)
            {
                _ns.NextTaskPoll = _time.GetUtcNow() + TaskPollInterval;
            }
        }
    }

    private static string? FindHeader<TValue>(IReadOnlyDictionary<string, TValue>? headers, string name)
    {
        if (headers is null)
        {
            return null;
        }

        foreach (var (key, value) in headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value switch
                {
                    string s => s,
                    IEnumerable<string> values => values.FirstOrDefault(),
                    _ => value?.ToString(),
                };
            }
        }

        return null;
    }

    private static (string? Code, string Detail) SplitReason(string? description)
    {
        if (string.IsNullOrEmpty(description))
        {
            return (null, "");
        }

        var colon = description.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? (description[..colon].Trim(), description[(colon + 1)..].Trim()) : (description.Trim(), "");
    }

    private static string DescribeRefusal(string code, int status) => code switch
    {
        CloseReasons.TcmDisabled => "the server setting 'TCM communication' is off",
        CloseReasons.NotTargeted => "no communication profile with persistent connections targets this agent",
        CloseReasons.BadCertificate => "the server did not accept the agent's client certificate",
        CloseReasons.UnknownAgent => "the server does not know this agent; registering again",
        _ => $"the server refused the persistent connection with HTTP {status}",
    };

    private static string Describe(Exception ex) => ex.InnerException is { } inner && ex is HttpRequestException or WebSocketException
        ? $"{ex.Message} ({inner.Message})"
        : ex.Message;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(1013, LogLevel.Warning, "The Notification Server does not know agent {AgentId} ({Detail}); registering again with the install package", EventName = "UnknownAgent")]
        public static partial void UnknownAgent(ILogger logger, string? agentId, string detail);

        [LoggerMessage(1020, LogLevel.Information, "Connecting to target server '{Host}' at {Address}, attempt {Attempt}", EventName = "Connecting")]
        public static partial void Connecting(ILogger logger, string host, string address, int attempt);

        [LoggerMessage(1021, LogLevel.Information, "Target server '{HostAndPort}' connected", EventName = "TargetConnected")]
        public static partial void TargetConnected(ILogger logger, string hostAndPort);

        [LoggerMessage(1022, LogLevel.Information, "Persistent connection to '{HostAndPort}' established: server '{ServerName}', connection {ConnectionId}", EventName = "ChannelEstablished")]
        public static partial void ChannelEstablished(ILogger logger, string hostAndPort, string serverName, string connectionId);

        [LoggerMessage(1023, LogLevel.Warning, "Target server '{HostAndPort}' refused the persistent connection: HTTP {Status} {Code}: {Detail}", EventName = "ChannelRefused")]
        public static partial void ChannelRefused(ILogger logger, string hostAndPort, int status, string code, string detail);

        [LoggerMessage(1024, LogLevel.Information, "Falling back to HTTP with '{HostAndPort}' ({Reason}); next policy request in {PolicyIn}, next task poll in {TasksIn}", EventName = "FallbackToHttp")]
        public static partial void FallbackToHttp(ILogger logger, string hostAndPort, string reason, string policyIn, string tasksIn);

        [LoggerMessage(1025, LogLevel.Information, "Reconnecting to target server '{HostAndPort}' in {Delay} (attempt {Attempt}), using HTTP meanwhile; {Reason}", EventName = "Backoff")]
        public static partial void Backoff(ILogger logger, string hostAndPort, string delay, int attempt, string reason);

        [LoggerMessage(1026, LogLevel.Information, "Returned to the persistent connection with '{HostAndPort}' (was HTTP: {PreviousReason})", EventName = "ReturnToChannel")]
        public static partial void ReturnToChannel(ILogger logger, string hostAndPort, string previousReason);

        [LoggerMessage(1027, LogLevel.Information, "Persistent connection to '{HostAndPort}' closed: {CloseStatus} '{Description}'", EventName = "ChannelClosed")]
        public static partial void ChannelClosed(ILogger logger, string hostAndPort, string closeStatus, string description);

        [LoggerMessage(1028, LogLevel.Warning, "Connecting to target server '{HostAndPort}' failed: {Reason}", EventName = "ConnectFailed")]
        public static partial void ConnectFailed(ILogger logger, string hostAndPort, string reason);

        [LoggerMessage(1029, LogLevel.Information, "Persistent connection to '{HostAndPort}' terminated ({Reason}); using HTTP, reconnecting after {Delay}", EventName = "Terminated")]
        public static partial void Terminated(ILogger logger, string? hostAndPort, string reason, string delay);

        [LoggerMessage(1030, LogLevel.Warning, "Target server '{HostAndPort}' reported error {Code}: {Detail} (fatal: {Fatal})", EventName = "ServerError")]
        public static partial void ServerError(ILogger logger, string hostAndPort, string code, string detail, bool fatal);

        [LoggerMessage(1031, LogLevel.Warning, "Closing the persistent connection to '{HostAndPort}': {Reason}", EventName = "ProtocolError")]
        public static partial void ProtocolError(ILogger logger, string hostAndPort, string reason);

        [LoggerMessage(1032, LogLevel.Debug, "{Method} {Path} over the persistent connection failed ({Reason}); retrying over HTTP", EventName = "RequestRetriedOverHttp")]
        public static partial void RequestRetriedOverHttp(ILogger logger, string method, string path, string reason);

        [LoggerMessage(1033, LogLevel.Debug, "Ignored an unexpected {Kind} from '{HostAndPort}'", EventName = "UnexpectedMessage")]
        public static partial void UnexpectedMessage(ILogger logger, string hostAndPort, string kind);

        [LoggerMessage(1040, LogLevel.Information, "Policy {Etag} applied from {Source}: TCM communication enabled {TcmEnabled}, persistent connection enabled {Persistent}, profile '{Profile}'", EventName = "PolicyApplied")]
        public static partial void PolicyApplied(ILogger logger, string etag, string source, bool tcmEnabled, bool persistent, string? profile);

        [LoggerMessage(1041, LogLevel.Warning, "Policy request to '{HostAndPort}' failed: {Reason}", EventName = "PolicyRequestFailed")]
        public static partial void PolicyRequestFailed(ILogger logger, string? hostAndPort, string reason);

        [LoggerMessage(1042, LogLevel.Warning, "HTTP poll of '{HostAndPort}' failed: {Reason}", EventName = "HttpPollFailed")]
        public static partial void HttpPollFailed(ILogger logger, string hostAndPort, string reason);

        [LoggerMessage(1061, LogLevel.Error, "The agent loop failed unexpectedly; continuing in {Delay}", EventName = "LoopFailed")]
        public static partial void LoopFailed(ILogger logger, string delay, Exception exception);
    }
}
