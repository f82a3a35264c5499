using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tcm.Hosting.Registration;

/// <summary>What a site server's link to its Notification Server (the Task Server's forwarding, the gateway's reports) sends alike.</summary>
public static class SiteServerHttp
{
    /// <summary>
    /// POSTs <paramref name="body"/> as JSON within <paramref name="timeout"/> on <paramref name="time"/>; a refusal throws
    /// <see cref="HttpRequestException"/> with the status code and the server's answer, so the caller's retry can say why.
    /// </summary>
    public static Task<HttpResponseMessage> PostAsync<T>(
        HttpClient client, string path, T body, JsonTypeInfo<T> typeInfo, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) =>
        PostAsync(client, path, JsonContent.Create(body, typeInfo), timeout, time, cancellationToken);

    /// <summary>
    /// POSTs <paramref name="utf8Json"/>, a body already encoded as JSON, as <see cref="PostAsync{T}"/> does a value.
    /// </summary>
    public static Task<HttpResponseMessage> PostAsync(
        HttpClient client, string path, byte[] utf8Json, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) =>
        PostAsync(client, path, new ByteArrayContent(utf8Json) { Headers = { ContentType = new MediaTypeHeaderValue("application/json", "utf-8") } }, timeout, time, cancellationToken);

    private static async Task<HttpResponseMessage> PostAsync(
        HttpClient client, string path, HttpContent content, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        using var request = content;
        var response = await client.PostAsync(path, content, linked.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            response.Dispose();
            throw new HttpRequestException($"POST {path}: HTTP {(int)response.StatusCode} {text}", null, response.StatusCode);
        }

        return response;
    }
}
