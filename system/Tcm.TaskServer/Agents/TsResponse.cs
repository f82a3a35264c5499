using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Tcm.Protocol;

namespace Tcm.TaskServer.Agents;

/// <summary>What an agent handler of the Task Server answers: status, headers and a UTF-8 JSON body.</summary>
internal sealed record TsResponse(int Status, byte[]? Body, IReadOnlyDictionary<string, string>? Headers = null)
{
    /// <summary>Header that names the refusal code on every 4xx/5xx answer.</summary>
    public const string RefusalHeader = "X-Tcm-Refusal";

    public static TsResponse NoContent { get; } = new(204, null);

    public static TsResponse Json<T>(int status, T value, JsonTypeInfo<T> typeInfo) => new(status, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));

    public static TsResponse Error(int status, string code, string detail) =>
        new(status, JsonSerializer.SerializeToUtf8Bytes(new ErrorBody { Code = code, Detail = detail }, ProtocolJsonContext.Default.ErrorBody),
            new Dictionary<string, string> { [RefusalHeader] = code });

    /// <summary>Writes the answer to an HTTP response.</summary>
    public async Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = Status;
        if (Headers is { } headers)
        {
            foreach (var (name, value) in headers)
            {
                context.Response.Headers[name] = value;
            }
        }

        if (Body is { } body)
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
