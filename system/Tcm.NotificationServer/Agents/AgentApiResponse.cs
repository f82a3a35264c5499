using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tcm.NotificationServer.Agents;

/// <summary>What an agent handler answers: status, headers and a UTF-8 JSON body.</summary>
internal sealed record AgentApiResponse(int Status, byte[]? Body, IReadOnlyDictionary<string, string>? Headers = null)
{
    /// <summary>Header that names the refusal code on every 4xx/5xx answer.</summary>
    public const string RefusalHeader = "X-Tcm-Refusal";

    public static AgentApiResponse NoContent { get; } = new(204, null);

    public static AgentApiResponse Json<T>(int status, T value, JsonTypeInfo<T> typeInfo, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), headers);

    public static AgentApiResponse Error(int status, string code, string detail) =>
        new(status, JsonSerializer.SerializeToUtf8Bytes(new ErrorBody { Code = code, Detail = detail }, ProtocolJsonContext.Default.ErrorBody),
            new Dictionary<string, string> { [RefusalHeader] = code });
}
