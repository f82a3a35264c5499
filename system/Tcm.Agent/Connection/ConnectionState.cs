using Tcm.Agent.Routing;

namespace Tcm.Agent.Connection;

/// <summary>
/// What one connection loop knows about its connection: the route, the open channel, why it is on HTTP, its schedule and the
/// one-shot requests that classify how its channel ends. Guarded by its own lock; every read and write goes through a method,
/// so the NS and the TS connection never share a lock.
/// </summary>
internal sealed class ConnectionState
{
    private readonly Lock _gate = new();
    private volatile AgentChannel? _channel;
    private AgentRoute? _route;
    private bool _reachable;
    private string? _httpReason;
    private DateTimeOffset? _connectedSince;
    private DateTimeOffset _nextTaskPoll;
    private DateTimeOffset _channelNotBefore;
    private bool _blockedUntilPolicy;
    private bool _terminateRequested;
    private bool _routeChangeRequested;
    private bool _policyCloseRequested;
    private string? _serverId;
    // One reference each, replaced per attempt: what the last attempt tried and what answered, and the gateway's leg.
    private Tcm.Protocol.Admin.ConnectionAttempt? _lastAttempt;
    private TlsInfo? _backendTls;

    /// <summary>The open channel (welcome received), or null.</summary>
    public AgentChannel? Channel => _channel;

    public AgentRoute? Route
    {
        get { lock (_gate) { return _route; } }
        set { lock (_gate) { _route = value; } }
    }

    /// <summary>Task Server only: the id of the server in use (sticky until it refuses or fails).</summary>
    public string? ServerId
    {
        get { lock (_gate) { return _serverId; } }
        set { lock (_gate) { _serverId = value; } }
    }

    public DateTimeOffset NextTaskPoll
    {
        get { lock (_gate) { return _nextTaskPoll; } }
        set { lock (_gate) { _nextTaskPoll = value; } }
    }

    public DateTimeOffset ChannelNotBefore
    {
        get { lock (_gate) { return _channelNotBefore; } }
        set { lock (_gate) { _channelNotBefore = value; } }
    }

    /// <summary>Until the next policy arrives the channel is not tried (after a refusal such as <c>tcm-disabled</c>).</summary>
    public bool BlockedUntilPolicy
    {
        get { lock (_gate) { return _blockedUntilPolicy; } }
        set { lock (_gate) { _blockedUntilPolicy = value; } }
    }

    /// <summary>What the last channel attempt tried and what answered.</summary>
    public Tcm.Protocol.Admin.ConnectionAttempt? LastAttempt
    {
        get { lock (_gate) { return _lastAttempt; } }
    }

    /// <summary>Records an attempt (and, through the gateway, the TLS of its leg to the server, as the gateway reported it).</summary>
    public void Attempted(Tcm.Protocol.Admin.ConnectionAttempt attempt, TlsInfo? backendTls)
    {
        lock (_gate)
        {
            _lastAttempt = attempt;
            _backendTls = backendTls;
        }
    }

    /// <summary>The TLS of the gateway's leg to the server, as the gateway reported it at the last attempt.</summary>
    public TlsInfo? BackendTls
    {
        get { lock (_gate) { return _backendTls; } }
    }

    /// <summary>Sets whether the last contact succeeded; true when that changed.</summary>
    public bool SetReachable(bool reachable)
    {
        lock (_gate)
        {
            var changed = _reachable != reachable;
            _reachable = reachable;
            return changed;
        }
    }

    /// <summary>Sets why the connection is on HTTP; true when that changed.</summary>
    public bool SetHttpReason(string? reason)
    {
        lock (_gate)
        {
            var changed = _httpReason != reason;
            _httpReason = reason;
            return changed;
        }
    }

    /// <summary>Whether the channel may be tried at <paramref name="now"/>; when only a delay stops it, when it is due.</summary>
    public bool ChannelAllowedAt(DateTimeOffset now, out DateTimeOffset? due)
    {
        due = null;
        lock (_gate)
        {
            if (_blockedUntilPolicy)
            {
                return false;
            }

            if (now < _channelNotBefore)
            {
                due = _channelNotBefore;
                return false;
            }

            return true;
        }
    }

    /// <summary>The channel is up: returns the HTTP reason it replaces.</summary>
    public string? Connected(AgentChannel channel, DateTimeOffset now)
    {
        lock (_gate)
        {
            var previous = _httpReason;
            _httpReason = null;
            _connectedSince = now;
            _channel = channel;
            return previous;
        }
    }

    public void Disconnected()
    {
        lock (_gate)
        {
            _channel = null;
            _connectedSince = null;
        }
    }

    /// <summary>The route changes: the channel may be tried at once; returns the open channel, flagged to reconnect without back-off.</summary>
    public AgentChannel? PrepareRouteChange(DateTimeOffset now)
    {
        lock (_gate)
        {
            _channelNotBefore = now;
            _blockedUntilPolicy = false;
            if (_channel is { } channel)
            {
                _routeChangeRequested = true;
                return channel;
            }

            return null;
        }
    }

    public void RequestRouteChange()
    {
        lock (_gate)
        {
            _routeChangeRequested = true;
        }
    }

    /// <summary>The policy no longer allows the channel: returns the open channel, flagged to end on HTTP until a policy allows it.</summary>
    public AgentChannel? RequestPolicyClose()
    {
        lock (_gate)
        {
            if (_channel is { } channel)
            {
                _policyCloseRequested = true;
                return channel;
            }

            return null;
        }
    }

    /// <summary>The channel is terminated (on the agent or by the server): HTTP until <paramref name="notBefore"/>.</summary>
    public void Terminate(DateTimeOffset notBefore, string reason, bool closesChannel)
    {
        lock (_gate)
        {
            _channelNotBefore = notBefore;
            _terminateRequested = closesChannel;
            _httpReason = reason;
        }
    }

    public bool TakeRouteChangeRequested() => Take(ref _routeChangeRequested);

    public bool TakeTerminateRequested() => Take(ref _terminateRequested);

    public bool TakePolicyCloseRequested() => Take(ref _policyCloseRequested);

    /// <summary>The agent stopped: nothing is reachable any more.</summary>
    public void Stopped()
    {
        lock (_gate)
        {
            _httpReason = "stopped";
            _connectedSince = null;
            _reachable = false;
        }
    }

    /// <summary>A consistent snapshot for the Network Status.</summary>
    public (AgentRoute? Route, bool Reachable, bool Persistent, string? HttpReason, DateTimeOffset? ConnectedSince) Snapshot()
    {
        lock (_gate)
        {
            return (_route, _reachable, _channel is not null && _connectedSince is not null, _httpReason, _connectedSince);
        }
    }

    private bool Take(ref bool flag)
    {
        lock (_gate)
        {
            var value = flag;
            flag = false;
            return value;
        }
    }
}
