using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tcm.Protocol;

namespace Tcm.Agent.Connection;

/// <summary>
/// The one way a connection makes a request: over its persistent channel while it is up (as <c>http.request</c>, or as the protocol
/// message that has an HTTP twin), failing fast to HTTP when the channel drops or times out; else HTTP through the connection's
/// handler on its current route. Network failures throw (and mark the server unreachable); HTTP statuses are returned.
/// </summary>
internal sealed partial class ServerRequests(AgentContext agent, ConnectionLoop connection)
{
    /// <summary>
    /// An ordinary request. <paramref name="overChannel"/>: whether the server answers it as <c>http.request</c> over the channel
    /// (policy, events); the others (task poll, status and result posts) have protocol messages on the channel and go over HTTP.
    /// </summary>
    public async Task<AgentResponse> SendAsync(HttpMethod method, string pathAndQuery, byte[]? body, string? ifNoneMatch, bool overChannel, CancellationToken ct)
    {
        if (overChannel && connection.State.Channel is { } channel)
        {
            try
            {
                var headers = ifNoneMatch is null ? null : new Dictionary<string, string> { ["If-None-Match"] = $"\"{ifNoneMatch}\"" };
                JsonElement? element = body is null ? null : JsonElement.Parse(body);
                agent.Counters.AddChannelRequest();
                var response = await channel.RequestAsync(method.Method, pathAndQuery, headers, element, agent.Options.RequestTimeout, ct).ConfigureAwait(false);
                var etag = ChannelClient.FindHeader(response.Headers, "ETag")?.Trim('"');
                return new AgentResponse(response.Status, etag, ChannelClient.FindHeader(response.Headers, AgentTransport.RefusalHeader), response.Body);
            }
            catch (Exception ex) when (ex is AgentChannelClosedException or TimeoutException)
            {
                Log.RequestRetriedOverHttp(agent.Logger, method.Method, pathAndQuery, ex.Message);
            }
        }

        var route = connection.Strategy.RouteForRequest();
        var transport = connection.TransportFor(route);
        try
        {
            var answer = await transport.SendAsync(method, route.For(pathAndQuery), body, ifNoneMatch, agent.Time, agent.Options.RequestTimeout, ct).ConfigureAwait(false);
            // The gateway answering for a server it cannot reach is no sign of the server: the status must say nothing answers.
            connection.SetReachable(!AttemptReport.GatewayAnsweredForMissingServer(answer.Refusal));
            return answer;
        }
        catch (Exception ex) when (AgentContext.IsNetworkFailure(ex, ct))
        {
            connection.SetReachable(false);
            throw;
        }
    }

    /// <summary>
    /// A message with an HTTP twin (a result, a task status): sent over the channel while it is up (null then), else POSTed to
    /// <paramref name="httpPath"/> and the answer returned.
    /// </summary>
    /// <remarks>why a pooled <see cref="ValueTask"/>: each task's result and any <c>running</c> status come here, each awaited once.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<AgentResponse?> SendOrPostAsync(Message message, string httpPath, CancellationToken ct)
    {
        if (connection.State.Channel is { } channel)
        {
            try
            {
                await channel.SendAsync(channel.WithHeldAck(message), ct).ConfigureAwait(false);
                return null;
            }
            catch (AgentChannelClosedException)
            {
                // Dropped under us: HTTP now; a reconnect would re-send a result anyway and the server stores it once.
            }
        }

        return await SendAsync(HttpMethod.Post, httpPath, MessageCodec.Encode(message), null, overChannel: false, ct).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(1032, LogLevel.Debug, "{Method} {Path} over the persistent connection failed ({Reason}); retrying over HTTP", EventName = "RequestRetriedOverHttp")]
        public static partial void RequestRetriedOverHttp(ILogger logger, string method, string path, string reason);
    }
}
