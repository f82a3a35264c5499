using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using Tcm.Agent.Routing;
using Tcm.Agent.Status;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Connection;

/// <summary>What answered an attempt to open a channel, before it is tied to a route: the outcome and its facts.</summary>
/// <param name="Error">The exception the attempt ended with, or null when it got an answer or a timeout.</param>
/// <param name="TimedOut">Whether the agent's own request timeout ended it.</param>
/// <param name="Status">The HTTP status of the answer (0 when none).</param>
/// <param name="Refusal">The answer's <c>X-Tcm-Refusal</c>, when it had one.</param>
/// <param name="RefusalDetail">The answer's <c>X-Tcm-Refusal-Detail</c>, when it had one (the gateway's list of backends).</param>
/// <param name="RetryAfter">The answer's <c>Retry-After</c>.</param>
/// <param name="RejectedCertificate">The certificate the agent rejected in this attempt's handshake.</param>
internal readonly record struct AttemptAnswer(
    Exception? Error, bool TimedOut, int Status, string? Refusal, string? RefusalDetail, TimeSpan? RetryAfter, CertificateInfo? RejectedCertificate);

/// <summary>
/// Classifies a channel attempt (<see cref="ConnectionAttempt"/>): connection refused, timeout, unreachable, a name that does not
/// resolve, a TLS failure with the certificate, an HTTP answer from something that is not a TCM server, the gateway's
/// <c>backend-not-configured</c> with its backends, <c>backend-unavailable</c>, or a TCM refusal code. Pure: the tests feed it answers.
/// </summary>
internal static class AttemptReport
{
    private const string BackendsMarker = "configured: ";

    /// <summary>The attempt on <paramref name="route"/> opened the channel.</summary>
    public static ConnectionAttempt Connected(AgentRoute route, DateTimeOffset at, string? proxy) => new()
    {
        At = at,
        Address = route.Gateway ?? route.HostAndPort,
        Route = route.Mode == ConnectionMode.Cem ? ConnectionMode.Cem : ConnectionMode.Direct,
        Target = route.Gateway is null ? null : route.HostAndPort,
        Proxy = proxy,
        Outcome = AttemptOutcome.Connected,
    };

    /// <summary>The attempt on <paramref name="route"/> did not open the channel: what answered, classified.</summary>
    public static ConnectionAttempt Failed(AgentRoute route, DateTimeOffset at, string? proxy, AttemptAnswer answer, TimeSpan timeout)
    {
        var connected = Connected(route, at, proxy);
        var (outcome, detail) = Classify(connected.Address, answer, timeout);
        return connected with
        {
            Outcome = outcome,
            Detail = detail,
            HttpStatus = answer.Status > 0 ? answer.Status : null,
            RefusalCode = answer.Refusal,
            RetryAfterSeconds = answer.RetryAfter is { } retry ? (int)retry.TotalSeconds : null,
            Backends = outcome == AttemptOutcome.BackendNotConfigured ? Backends(answer.RefusalDetail) : null,
            Certificate = outcome == AttemptOutcome.TlsFailure ? answer.RejectedCertificate : null,
        };
    }

    /// <summary>The channel opened but the server closed it before its welcome, with <paramref name="reason"/> (<c>code: detail</c>).</summary>
    public static ConnectionAttempt ClosedBeforeWelcome(ConnectionAttempt opened, string reason)
    {
        var (code, _) = ChannelClient.SplitReason(reason);
        // A server's close reason is "code: detail", the code one word (unknown-agent, tcm-disabled...).
        var refused = code is { Length: > 0 } && !code.Contains(' ', StringComparison.Ordinal);
        return opened with
        {
            Outcome = refused ? AttemptOutcome.Refused : AttemptOutcome.Failed,
            Detail = refused ? $"{reason} (the server closed the channel before its welcome)" : reason,
            RefusalCode = refused ? code : null,
        };
    }

    /// <summary>The outcome and its words for an answer from <paramref name="address"/>.</summary>
    public static (AttemptOutcome Outcome, string Detail) Classify(string address, AttemptAnswer answer, TimeSpan timeout)
    {
        // Anything but the upgrade's own status is an answer from whatever listens there (HTTP/1.1 expects 101).
        if (answer.Status is > 0 and not 101)
        {
            return ClassifyAnswer(address, answer);
        }

        if (answer.TimedOut)
        {
            return (AttemptOutcome.Timeout, $"no answer from {address} within {DelayText.Format(timeout)} (a firewall that drops, or a host that is down)");
        }

        if (Find<AuthenticationException>(answer.Error) is not null)
        {
            return (AttemptOutcome.TlsFailure, $"TLS with {address} failed: {CertificateSummary.DescribeRejection(answer.RejectedCertificate)}");
        }

        return Find<SocketException>(answer.Error)?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => (AttemptOutcome.ConnectionRefused, $"connection refused by {address}: nothing listens on that port"),
            SocketError.TimedOut => (AttemptOutcome.Timeout, $"no answer from {address} (the TCP connect timed out)"),
            SocketError.NetworkUnreachable or SocketError.HostUnreachable => (AttemptOutcome.Unreachable, $"no route to {address} from this network"),
            SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => (AttemptOutcome.NameNotResolved, $"the name in {address} does not resolve"),
            _ when Find<HttpRequestException>(answer.Error) is { HttpRequestError: HttpRequestError.NameResolutionError } =>
                (AttemptOutcome.NameNotResolved, $"the name in {address} does not resolve"),
            _ => (AttemptOutcome.Failed, answer.Error is null ? $"the attempt with {address} failed" : ChannelClient.Describe(answer.Error)),
        };
    }

    /// <summary>Whether an answer says the server itself is not there (the gateway answered for it), rather than that it answered.</summary>
    public static bool GatewayAnsweredForMissingServer(string? refusal) =>
        refusal is CloseReasons.BackendUnavailable or CloseReasons.BackendNotConfigured;

    private static (AttemptOutcome, string) ClassifyAnswer(string address, AttemptAnswer answer)
    {
        var detail = answer.RefusalDetail is { Length: > 0 } d ? $": {d}" : "";
        return answer.Refusal switch
        {
            null => (AttemptOutcome.NotTcm, $"HTTP {answer.Status} from {address}, which is not a TCM server (no {AgentTransport.RefusalHeader} in its answer)"),
            CloseReasons.BackendNotConfigured => (AttemptOutcome.BackendNotConfigured, $"the gateway {address} refused: {CloseReasons.BackendNotConfigured}{detail}"),
            CloseReasons.BackendUnavailable => (AttemptOutcome.BackendUnavailable, $"the gateway {address} could not reach the server: {CloseReasons.BackendUnavailable}{detail}"),
            CloseReasons.ServerBusy => (AttemptOutcome.Refused,
                $"HTTP {answer.Status} {CloseReasons.ServerBusy}: {ChannelClient.DescribeRefusal(CloseReasons.ServerBusy, answer.Status)}"
                + (answer.RetryAfter is { } retry ? $"; Retry-After {DelayText.Format(retry)}" : "")),
            var code => (AttemptOutcome.Refused, $"HTTP {answer.Status} {code}: {(detail.Length > 0 ? detail[2..] : ChannelClient.DescribeRefusal(code, answer.Status))}"),
        };
    }

    private static IReadOnlyList<string>? Backends(string? detail)
    {
        var at = detail?.IndexOf(BackendsMarker, StringComparison.Ordinal) ?? -1;
        return at < 0 ? null : detail![(at + BackendsMarker.Length)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static T? Find<T>(Exception? error) where T : Exception
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }
}
