using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tcm.Protocol;

/// <summary>
/// A task push's <see cref="TaskPushMessage.Parameters"/> (a JSON object of strings), read and written as the serializer's own
/// dictionary converter does: the same bytes out (each key and value through the writer's encoder, a null value as <c>null</c>), the
/// same map in (a repeated key: the last one counts; a value that is not a string or <c>null</c>, or a map that is not an object, is
/// refused).
/// </summary>
/// <remarks>
/// why: the serializer's dictionary converter reads the object as a nested frame of its own, and the first nested frame of a message makes
/// it allocate an array of four frames (about 600 bytes) per message read; a push carries its parameters, so every push an agent read
/// paid for it (about half of a push's decoding allocations, the largest single allocation of a 2,000-agent load generator). A value
/// converter reads the object in the property's own frame. Public: the other assemblies' source-generated contexts that hold a
/// <see cref="TaskPushMessage"/> (the agent's saved state) make their own instance.
/// </remarks>
public sealed class TaskParametersConverter : JsonConverter<IReadOnlyDictionary<string, string>>
{
    public override IReadOnlyDictionary<string, string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("task parameters must be a JSON object of strings");
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            parameters[name] = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                // As the serializer's own converter: a parameter given as null is kept as null.
                JsonTokenType.Null => null!,
                _ => throw new JsonException($"task parameter '{name}' must be a string, not {reader.TokenType}"),
            };
        }

        return parameters;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, text) in value)
        {
            writer.WritePropertyName(name);
            if (text is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteStringValue(text);
            }
        }

        writer.WriteEndObject();
    }
}
