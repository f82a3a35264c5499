using Yarp.ReverseProxy.Forwarder;

namespace Tcm.Gateway.Relay;

/// <summary>How a relayed exchange ended. Returned, not thrown: exceptions are for bugs.</summary>
internal enum RelayError
{
    /// <summary>Completed.</summary>
    None,
    /// <summary>The backend could not be reached (connect, TLS) or did not answer in time.</summary>
    BackendUnreachable,
    /// <summary>The backend answered the tunnel's upgrade with something other than a WebSocket; its answer was passed on.</summary>
    UpgradeRefused,
    /// <summary>Reading the agent's request body failed (the agent went away).</summary>
    RequestBodyAgent,
    /// <summary>Sending the request body to the backend failed.</summary>
    RequestBodyBackend,
    /// <summary>Reading the backend's response body failed.</summary>
    ResponseBodyBackend,
    /// <summary>Writing the response to the agent failed (the agent went away).</summary>
    ResponseBodyAgent,
    /// <summary>The agent's side of a tunnel failed (reset, not a clean end of stream).</summary>
    TunnelAgent,
    /// <summary>The backend's side of a tunnel failed.</summary>
    TunnelBackend,
    /// <summary>The tunnel carried no byte either way for longer than the idle timeout.</summary>
    TunnelIdle,
    /// <summary>The agent aborted the request, or the gateway is stopping.</summary>
    Canceled,
}

/// <summary>Text for <see cref="RelayError"/>.</summary>
internal static class RelayErrors
{
    /// <summary>One message per value, for logs and refusals.</summary>
    public static string GetMessage(this RelayError error) => error switch
    {
        RelayError.None => "completed",
        RelayError.BackendUnreachable => "the backend could not be reached or did not answer in time",
        RelayError.UpgradeRefused => "the backend refused the WebSocket; its answer was passed to the agent",
        RelayError.RequestBodyAgent => "reading the request body from the agent failed",
        RelayError.RequestBodyBackend => "sending the request body to the backend failed",
        RelayError.ResponseBodyBackend => "reading the response body from the backend failed",
        RelayError.ResponseBodyAgent => "writing the response to the agent failed",
        RelayError.TunnelAgent => "the agent's side of the tunnel failed",
        RelayError.TunnelBackend => "the backend's side of the tunnel failed",
        RelayError.TunnelIdle => "the tunnel was idle for longer than the idle timeout",
        RelayError.Canceled => "the agent aborted the request, or the gateway is stopping",
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, "unknown relay error"),
    };

    /// <summary>The error as a metric tag or log code: <c>backend-unreachable</c>, <c>tunnel-idle</c>, ...</summary>
    public static string ToCode(this RelayError error) =>
        (uint)error < (uint)Codes.Length ? Codes[(int)error] : throw new ArgumentOutOfRangeException(nameof(error), error, "unknown relay error");

    // why: computed once, so counting an error allocates nothing.
    private static readonly string[] Codes = Enum.GetValues<RelayError>().Order()
        .Select(e => string.Concat(e.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())))
        .ToArray();

    /// <summary>How YARP's forwarding result reads in the gateway's terms: one value for every <see cref="ForwarderError"/>.</summary>
    public static RelayError ToRelayError(this ForwarderError error) => error switch
    {
        ForwarderError.None => RelayError.None,
        ForwarderError.Request or ForwarderError.RequestCreation or ForwarderError.RequestTimedOut or ForwarderError.ResponseHeaders
            or ForwarderError.NoAvailableDestinations => RelayError.BackendUnreachable,
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
            or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled => RelayError.Canceled,
        ForwarderError.RequestBodyClient => RelayError.RequestBodyAgent,
        ForwarderError.RequestBodyDestination => RelayError.RequestBodyBackend,
        ForwarderError.ResponseBodyDestination => RelayError.ResponseBodyBackend,
        ForwarderError.ResponseBodyClient => RelayError.ResponseBodyAgent,
        ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseClient => RelayError.TunnelAgent,
        ForwarderError.UpgradeRequestDestination or ForwarderError.UpgradeResponseDestination => RelayError.TunnelBackend,
        ForwarderError.UpgradeActivityTimeout => RelayError.TunnelIdle,
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, "unknown forwarder error"),
    };
}
