using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tcm.Protocol;

/// <summary>
/// The idempotency keys of a server's acknowledgement (<see cref="AckMessage.Keys"/>, <see cref="PushMessage.AckKeys"/>: a JSON array of
/// strings), read and written as the serializer's own list converter does: the same bytes out (each key through the writer's encoder, a
/// null element as <c>null</c>), the same list in (an element that is not a string or <c>null</c>, or a value that is not an array, is
/// refused).
/// </summary>
/// <remarks>
/// why: as <see cref="TaskParametersConverter"/>: the serializer's list converter reads the array as a nested frame of its own, and the
/// first nested frame of a message makes it allocate an array of frames (about 500 bytes) per message read. A push carries the keys of
/// the agent's stored results, so on a fan-out's path every push an agent read paid for it (the largest single allocation of a
/// 2,000-agent load generator's agents). A value converter reads the array in the property's own frame. Public for the same reason as
/// <see cref="TaskParametersConverter"/>.
/// </remarks>
public sealed class KeyListConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("idempotency keys must be a JSON array of strings");
        }

        // why a list of one by default: a push carries the keys of the results stored since the last one, usually one.
        var keys = new List<string>(1);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            keys.Add(reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                // As the serializer's own converter: an element given as null is kept as null.
                JsonTokenType.Null => null!,
                _ => throw new JsonException($"idempotency key {keys.Count} must be a string, not {reader.TokenType}"),
            });
        }

        return keys;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var key in value)
        {
            if (key is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteStringValue(key);
            }
        }

        writer.WriteEndArray();
    }
}
