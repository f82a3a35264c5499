using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tcm.Channels.Framing;
using Tcm.Agent.Routing;
using Tcm.Agent.Status;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Connection;

/// <summary>What opening a channel gave: the socket, or the refusal's status and code, or the failure; and the attempt as the Network Status shows it.</summary>
internal readonly record struct ChannelOpening(ClientWebSocket? Socket, int Status, string? Refusal, string? Failure, TimeSpan? RetryAfter = null)
{
    public ConnectionAttempt? Attempt { get; init; }

    /// <summary>Through the gateway: the TLS of the gateway's connection to the server, as the gateway reported it.</summary>
    public TlsInfo? BackendTls { get; init; }
}

/// <summary>
/// The agent's side of one connection's channel over <see cref="AgentChannel"/>: opening the WebSocket, the hello/welcome handshake,
/// and the dispatch of what the server sends (pushes, acknowledgements, answers to the agent's requests, the server's own requests,
/// terminate, errors). <see cref="ConnectionLoop"/> runs it in the order of its connect sequence.
/// </summary>
internal sealed partial class ChannelClient(AgentContext agent, ConnectionLoop loop, IDelivery delivery, Func<NetworkStatus> status)
{
    /// <summary>The path under which the server asks a connected agent for its Network Status.</summary>
    internal const string AgentStatusPath = TcmPaths.AgentStatus;

    private readonly ILogger _logger = agent.Logger;

    /// <summary>Logs a connection attempt in the product's words.</summary>
    public void LogAttempt(AgentRoute route, string cemTargets, int attempt)
    {
        if (route.Mode == ConnectionMode.Cem)
        {
            var host = route.HostAndPort;
            Log.CemPreferred(_logger, cemTargets);
            Log.ConnectingToGateway(_logger, host[..host.LastIndexOf(':')], route.BaseAddress.Host, route.BaseAddress.Port, attempt);
        }
        else
        {
            Log.Connecting(_logger, route.BaseAddress.Host, route.ChannelUri.GetLeftPart(UriPartial.Authority), attempt);
        }
    }

    /// <summary>
    /// Opens the WebSocket (sub-protocol <c>tcm.v1</c>, the policy's keep-alive announced and pinged by <see cref="AgentContext.Pings"/>)
    /// through <paramref name="transport"/>'s handler.
    /// </summary>
    public async Task<ChannelOpening> OpenAsync(AgentRoute route, AgentTransport transport, CancellationToken stop)
    {
        var options = agent.Options;
        var socket = new ClientWebSocket();
        socket.Options.HttpVersion = options.HttpVersion;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
        socket.Options.AddSubProtocol(ProtocolConstants.SubProtocol);
        socket.Options.CollectHttpResponseDetails = true;
        // why: the WebSocket sends no pings of its own; the agent pings all its channels on one tick (ChannelPings).
        var keepAlive = ChannelKeepAlive.FromPolicy(agent.Policy?.Settings);
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var upgrade = new UpgradeCapture(transport.ChannelInvoker, keepAlive, stream => agent.Pings.Add(stream, keepAlive));
        using var invoker = new HttpMessageInvoker(upgrade, disposeHandler: false);

        using var timeout = new CancellationTokenSource(options.RequestTimeout, agent.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        try
        {
            await socket.ConnectAsync(route.ChannelUri, invoker, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            socket.Dispose();
            throw;
        }
        catch (Exception ex)
        {
            var statusCode = (int)socket.HttpStatusCode;
            var refusal = FindHeader(socket.HttpResponseHeaders, AgentTransport.RefusalHeader);
            var retryAfter = ParseRetryAfter(FindHeader(socket.HttpResponseHeaders, RetryAfterHeader));
            var answer = new AttemptAnswer(ex, timeout.IsCancellationRequested, statusCode, refusal,
                FindHeader(socket.HttpResponseHeaders, GatewayHeaders.RefusalDetail), retryAfter, transport.RejectedCertificate);
            socket.Dispose();
            var attempt = AttemptReport.Failed(route, agent.Time.GetUtcNow(), ProxyOf(route), answer, options.RequestTimeout);
            return new ChannelOpening(null, statusCode, refusal, attempt.Detail, retryAfter) { Attempt = attempt };
        }

        var backendTls = BackendTls(socket.HttpResponseHeaders);
        // The response headers are only needed for a refusal; an idle agent must not keep them.
        socket.HttpResponseHeaders = null;
        return new ChannelOpening(socket, (int)socket.HttpStatusCode, null, null) { Attempt = AttemptReport.Connected(route, agent.Time.GetUtcNow(), ProxyOf(route)), BackendTls = backendTls };
    }

    /// <summary>The proxy this attempt went through (host:port), or null when it went directly.</summary>
    private string? ProxyOf(AgentRoute route) => agent.Proxied.UseFor(route.Gateway ?? route.HostAndPort).Via;

    /// <summary>
    /// Sends hello and waits for welcome. Returns the welcome, or null and why not (null when the server closed, whose close reason
    /// then classifies the end).
    /// </summary>
    public async Task<(WelcomeMessage? Welcome, string? Failure)> HandshakeAsync(AgentChannel channel, AgentRoute route, CancellationToken stop)
    {
        await channel.SendAsync(new HelloMessage
        {
            ProtocolVersion = ProtocolConstants.Version,
            AgentId = agent.Identity!.AgentId,
            AgentVersion = agent.Options.AgentVersion,
            Role = loop.Role,
            LastReceivedSeq = agent.Book.LastReceivedSeq(loop.Role),
            Route = route.Mode == ConnectionMode.Cem ? "cem" : "direct",
            AcceptsTaskCancel = true,
            AcceptsHeldResultAcks = true,
        }, stop).ConfigureAwait(false);

        Message? first;
        using (var helloTimeout = new CancellationTokenSource(agent.Options.HelloTimeout, agent.Time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, helloTimeout.Token))
        {
            try
            {
                first = await channel.ReceiveAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (helloTimeout.IsCancellationRequested && !stop.IsCancellationRequested)
            {
                return (null, $"no welcome within {DelayText.Format(agent.Options.HelloTimeout)}");
            }
        }

        if (first is WelcomeMessage welcome)
        {
            return (welcome, null);
        }

        string? failure = null;
        if (first is ErrorMessage error)
        {
            Log.ServerError(_logger, route.HostAndPort, error.Code, error.Detail, error.Fatal);
            failure = $"{error.Code}: {error.Detail}";
            // The server closes after a fatal error; its close reason classifies the end.
            first = await channel.ReceiveAsync(stop).ConfigureAwait(false);
        }

        if (first is null)
        {
            return (null, null);
        }

        failure ??= $"{CloseReasons.ProtocolViolation}: expected welcome, got {first.GetType().Name}";
        await channel.CloseAsync(WebSocketCloseStatus.PolicyViolation, failure, stop).ConfigureAwait(false);
        return (null, failure);
    }

    /// <summary>Acts on one message from the server.</summary>
    public async Task DispatchAsync(AgentChannel channel, AgentRoute route, Message message, CancellationToken stop)
    {
        switch (message)
        {
            case PushMessage push:
                await delivery.HandlePushAsync(loop, push, channel, stop).ConfigureAwait(false);
                break;

            case AckMessage { Keys: { Count: > 0 } keys }:
                await delivery.AcknowledgeAsync(keys, stop).ConfigureAwait(false);
                break;

            case ProtocolHttpResponse response:
                channel.Complete(response);
                break;

            case ProtocolHttpRequest request:
                await channel.SendAsync(AnswerServerRequest(request), stop).ConfigureAwait(false);
                break;

            case TerminateMessage terminate:
                var delay = TimeSpan.FromSeconds(Math.Max(0, terminate.ReconnectAfterSeconds));
                loop.State.Terminate(agent.Time.GetUtcNow() + delay, $"{CloseReasons.Terminated}: {terminate.Reason}; reconnecting after {DelayText.Format(delay)}", closesChannel: true);
                Log.Terminated(_logger, route.HostAndPort, terminate.Reason, DelayText.Format(delay));
                await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, $"{CloseReasons.Terminated}: closing as asked", stop).ConfigureAwait(false);
                break;

            case TaskCancelMessage cancel:
                delivery.Cancel(cancel);
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
                Body = JsonSerializer.SerializeToElement(status(), ProtocolJsonContext.Default.NetworkStatus),
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

    /// <summary>The header of a busy server's hint (<see cref="CloseReasons.ServerBusy"/>).</summary>
    internal const string RetryAfterHeader = "Retry-After";

    /// <summary>The longest hint the agent honours; a larger one is taken as this.</summary>
    internal static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);

    /// <summary><c>Retry-After</c> in delta-seconds (the only form the servers send), or null when absent or not one.</summary>
    internal static TimeSpan? ParseRetryAfter(string? value) =>
        long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(Math.Min(seconds, (long)MaxRetryAfter.TotalSeconds))
            : null;

    internal static string? FindHeader<TValue>(IReadOnlyDictionary<string, TValue>? headers, string name)
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

    /// <summary>
    /// The gateway's <c>X-Tcm-Backend-Tls</c> (<c>protocol; cipher suite</c>) on a relayed answer: the TLS of its own leg to the server.
    /// </summary>
    internal static TlsInfo? BackendTls<TValue>(IReadOnlyDictionary<string, TValue>? headers) =>
        FindHeader(headers, GatewayHeaders.BackendTls) is { } value && value.Split(';', 2, StringSplitOptions.TrimEntries) is [{ Length: > 0 } protocol, { Length: > 0 } cipher]
            ? TlsObservation.Reported(protocol, cipher)
            : null;

    internal static (string? Code, string Detail) SplitReason(string? description)
    {
        if (string.IsNullOrEmpty(description))
        {
            return (null, "");
        }

        var colon = description.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? (description[..colon].Trim(), description[(colon + 1)..].Trim()) : (description.Trim(), "");
    }

    internal static string DescribeRefusal(string code, int status) => code switch
    {
        CloseReasons.TcmDisabled => "the server setting 'TCM communication' is off",
        CloseReasons.NotTargeted => "no communication profile with persistent connections targets this agent",
        CloseReasons.BadCertificate => "the server did not accept the agent's client certificate",
        CloseReasons.UnknownAgent => "the server does not know this agent; registering again",
        CloseReasons.ServerBusy => "the server is busy taking other agents' channels",
        _ => $"the server refused the persistent connection with HTTP {status}",
    };

    internal static string Describe(Exception ex) => ex.InnerException is { } inner && ex is HttpRequestException or WebSocketException
        ? $"{ex.Message} ({inner.Message})"
        : ex.Message;

    private static partial class Log
    {
        [LoggerMessage(1020, LogLevel.Information, "Connecting to target server '{Host}' at {Address}, attempt {Attempt}", EventName = "Connecting")]
        public static partial void Connecting(ILogger logger, string host, string address, int attempt);

        [LoggerMessage(1085, LogLevel.Information, "CEM gateway connection is preferred while connecting to {Targets}", EventName = "CemPreferred")]
        public static partial void CemPreferred(ILogger logger, string targets);

        [LoggerMessage(1086, LogLevel.Information, "Connecting to CEM gateway '{Host}' at {GatewayHost}:{GatewayPort}, attempt {Attempt}", EventName = "ConnectingToGateway")]
        public static partial void ConnectingToGateway(ILogger logger, string host, string gatewayHost, int gatewayPort, int attempt);

        [LoggerMessage(1029, LogLevel.Information, "Persistent connection to '{HostAndPort}' terminated ({Reason}); using HTTP, reconnecting after {Delay}", EventName = "Terminated")]
        public static partial void Terminated(ILogger logger, string? hostAndPort, string reason, string delay);

        [LoggerMessage(1030, LogLevel.Warning, "Target server '{HostAndPort}' reported error {Code}: {Detail} (fatal: {Fatal})", EventName = "ServerError")]
        public static partial void ServerError(ILogger logger, string hostAndPort, string code, string detail, bool fatal);

        [LoggerMessage(1033, LogLevel.Debug, "Ignored an unexpected {Kind} from '{HostAndPort}'", EventName = "UnexpectedMessage")]
        public static partial void UnexpectedMessage(ILogger logger, string hostAndPort, string kind);
    }
}
