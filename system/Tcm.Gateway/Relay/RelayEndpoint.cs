using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tcm.Gateway.Diagnostics;
using Tcm.Protocol;

namespace Tcm.Gateway.Relay;

/// <summary>
/// Every request to the agent listener that is not one of the gateway's own endpoints: checks the agent's certificate, the
/// relay address and the backend, then hands the request to <see cref="RelayForwarder"/> (YARP). Anything
/// else is refused with an <see cref="ErrorBody"/> and <c>X-Tcm-Refusal</c> that say why: the gateway is never an open proxy.
/// </summary>
internal static partial class RelayEndpoint
{
    /// <summary>The response header that carries a refusal's code.</summary>
    public const string RefusalHeader = "X-Tcm-Refusal";

    public static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices.GetRequiredService<RelayServices>();

        // Who: the agent's certificate, before anything about the backends is said.
        var certificate = context.Connection.ClientCertificate;
        if (certificate is null && await TryRelayRegistrationAsync(context, services).ConfigureAwait(false))
        {
            return;
        }

        var verdict = services.Certificates.Check(certificate);
        if (!verdict.Accepted)
        {
            await RefuseAsync(context, services, verdict.Status, verdict.Code!, verdict.Detail!).ConfigureAwait(false);
            return;
        }

        // Where: /relay/{host}:{port}{path}, to a configured backend only.
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!RelayAddress.TryParse(rawTarget, out var address, out var problem))
        {
            await RefuseAsync(context, services, StatusCodes.Status400BadRequest, CloseReasons.MalformedRelayRequest, problem).ConfigureAwait(false);
            return;
        }

        if (!services.Backends.TryGet(address.Backend, out var backend))
        {
            await RefuseAsync(context, services, StatusCodes.Status403Forbidden, CloseReasons.BackendNotConfigured,
                $"no backend '{address.Backend}' is configured on gateway '{services.GatewayName}'; configured: {services.Backends.Configured}").ConfigureAwait(false);
            return;
        }

        // What: a WebSocket, or an ordinary request; a plain CONNECT would make the gateway a proxy.
        var forwarded = Convert.ToBase64String(certificate!.RawData);
        var tunnel = IsWebSocketOpening(context);
        if (!tunnel && HttpMethods.IsConnect(context.Request.Method))
        {
            await RefuseAsync(context, services, StatusCodes.Status405MethodNotAllowed, CloseReasons.MalformedRelayRequest,
                "CONNECT is relayed only as a WebSocket (:protocol websocket); the gateway is not a proxy").ConfigureAwait(false);
            return;
        }

        if (tunnel && context.Features.Get<IHttpExtendedConnectFeature>() is not { IsExtendedConnect: true } && string.IsNullOrEmpty(context.Request.Headers.SecWebSocketKey))
        {
            await RefuseAsync(context, services, StatusCodes.Status400BadRequest, CloseReasons.MalformedRelayRequest,
                "a WebSocket upgrade needs a Sec-WebSocket-Key header").ConfigureAwait(false);
            return;
        }

        var error = await services.Forwarder.RelayAsync(context, backend, address, forwarded, tunnel, services).ConfigureAwait(false);
        if (error is not (RelayError.None or RelayError.UpgradeRefused or RelayError.Canceled))
        {
            Log.RelayFailed(services.Logger, backend.Name, address.PathAndQuery, error, error.GetMessage());
        }
    }

    /// <summary>
    /// An agent that starts on the internet registers through the gateway before it has a certificate: exactly
    /// <c>POST /relay/{ns}/tcm/agent/register</c> to a configured Notification Server passes without a client certificate (the
    /// registration token in the body authenticates it at the NS); nothing is forwarded as the agent's identity. Anything else
    /// without a certificate is refused as before.
    /// </summary>
    private static async Task<bool> TryRelayRegistrationAsync(HttpContext context, RelayServices services)
    {
        if (!HttpMethods.IsPost(context.Request.Method)
            || !RelayAddress.TryParse(context.Features.Get<IHttpRequestFeature>()?.RawTarget, out var address, out _)
            || address.PathAndQuery != TcmPaths.Register
            || !services.Backends.TryGet(address.Backend, out var backend)
            || backend.Kind != BackendKind.NotificationServer)
        {
            return false;
        }

        var error = await services.Forwarder.RelayAsync(context, backend, address, agentCertificate: null, tunnel: false, services).ConfigureAwait(false);
        if (error is not (RelayError.None or RelayError.Canceled))
        {
            Log.RelayFailed(services.Logger, backend.Name, address.PathAndQuery, error, error.GetMessage());
        }

        return true;
    }

    /// <summary>Whether the request opens a WebSocket, in either HTTP version.</summary>
    private static bool IsWebSocketOpening(HttpContext context)
    {
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            return string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);
        }

        return HttpMethods.IsGet(context.Request.Method)
            && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
            && context.Request.Headers.Upgrade.Any(v => string.Equals(v, "websocket", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Answers with a refusal: status, <c>X-Tcm-Refusal</c>, an <see cref="ErrorBody"/>; counts and logs it.</summary>
    public static async Task RefuseAsync(HttpContext context, RelayServices services, int status, string code, string detail)
    {
        services.Metrics.Rejected(code);
        var remote = context.Connection.RemoteIpAddress?.ToString();
        if (code == CloseReasons.BackendNotConfigured)
        {
            Log.BackendNotConfigured(services.Logger, remote, detail);
        }
        else
        {
            Log.Refused(services.Logger, code, remote, detail);
        }

        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.Headers[RefusalHeader] = code;
        // An agent cannot read the body of a refused WebSocket upgrade: the detail (backend-not-configured's list) goes in a header too.
        context.Response.Headers[GatewayHeaders.RefusalDetail] = HeaderSafe(detail);
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = JsonSerializer.SerializeToUtf8Bytes(new ErrorBody { Code = code, Detail = detail }, ProtocolJsonContext.Default.ErrorBody);
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static string HeaderSafe(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            span[i] = source[i] is < ' ' or > '~' ? ' ' : source[i];
        }
    });

    private static partial class Log
    {
        [LoggerMessage(EventId = 610, Level = LogLevel.Warning, Message = "Refused a request from {RemoteAddress}: backend-not-configured: {Detail}")]
        public static partial void BackendNotConfigured(ILogger logger, string? remoteAddress, string detail);

        [LoggerMessage(EventId = 611, Level = LogLevel.Information, Message = "Refused a request ({Code}) from {RemoteAddress}: {Detail}")]
        public static partial void Refused(ILogger logger, string code, string? remoteAddress, string detail);

        [LoggerMessage(EventId = 612, Level = LogLevel.Debug, Message = "Relay to backend '{Backend}' ({Path}) ended: {Error}: {Message}")]
        public static partial void RelayFailed(ILogger logger, string backend, string path, RelayError error, string message);
    }
}
