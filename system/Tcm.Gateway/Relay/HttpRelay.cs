using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Tcm.Protocol;
using HttpRequestMessage = System.Net.Http.HttpRequestMessage;
using HttpResponseMessage = System.Net.Http.HttpResponseMessage;

namespace Tcm.Gateway.Relay;

/// <summary>
/// Relays one agent HTTP request to a configured backend, streaming both bodies. The exchange, step by step:
/// <list type="number">
/// <item>Build the upstream request: the agent's method, the backend's address with the original path and query, HTTP/2
/// (or lower, by ALPN), the agent's headers without hop-by-hop ones.</item>
/// <item>Attach the agent's body as a stream when the request has one: nothing is buffered.</item>
/// <item>Add the forwarded identity: the agent's certificate (base64 DER) and the gateway's name.</item>
/// <item>Send over the backend's shared handler; no connection or no answer in time: 502/504 <c>backend-unavailable</c>.</item>
/// <item>Copy the backend's status and headers (without hop-by-hop ones) to the agent: a backend's refusal reaches the agent unchanged.</item>
/// <item>Stream the response body to the agent.</item>
/// </list>
/// </summary>
internal static class HttpRelay
{
    public static async ValueTask<RelayError> RelayAsync(HttpContext context, Backend backend, RelayAddress address, string? agentCertificate, RelayServices services)
    {
        var aborted = context.RequestAborted;

        // :: Step 1: Build the upstream request
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(backend.BaseUri, address.PathAndQuery))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };

        // :: Step 2: Stream the body, if any
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            request.Content = new StreamContent(new CountingStream(context.Request.Body, services.Metrics.ToBackend, null), StreamCopier.BufferSize);
        }

        // :: Step 3: Headers and the forwarded identity
        RelayHeaders.CopyRequestHeaders(context, request, agentCertificate, services.GatewayName);

        // :: Step 4: Send
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(services.Options.BackendResponseTimeout);
        HttpResponseMessage response;
        try
        {
            response = await backend.Invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return RelayError.Canceled;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            var timedOut = ex is OperationCanceledException;
            await RelayEndpoint.RefuseAsync(context, services, timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway, CloseReasons.BackendUnavailable,
                $"gateway '{services.GatewayName}' could not reach backend '{backend.Name}' ({backend.Address}): {(timedOut ? "no answer in time" : ex.Message)}").ConfigureAwait(false);
            return RelayError.BackendUnreachable;
        }

        using (response)
        {
            backend.RequestRelayed();

            // :: Step 5: Status and headers
            RelayHeaders.CopyResponseHeaders(response, context.Response);

            // :: Step 6: Stream the response body
            Stream body;
            try
            {
                body = await response.Content.ReadAsStreamAsync(aborted).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
            {
                return aborted.IsCancellationRequested ? RelayError.Canceled : RelayError.ResponseBodyBackend;
            }

            await using (body.ConfigureAwait(false))
            {
                var result = await StreamCopier.CopyAsync(body, context.Response.Body, services.Metrics.ToAgent, null, aborted).ConfigureAwait(false);
                return result switch
                {
                    StreamCopyResult.Completed => RelayError.None,
                    StreamCopyResult.InputError => RelayError.ResponseBodyBackend,
                    StreamCopyResult.OutputError => RelayError.ResponseBodyAgent,
                    _ => RelayError.Canceled,
                };
            }
        }
    }
}
